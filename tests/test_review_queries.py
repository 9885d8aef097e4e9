"""Shift review on a known record: queries, alarm episodes, NEWS2 over time, the burden dashboard and
the handover report, each checked against values counted by hand from the known ward
(tests/test_review_ward.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from test_review_ward import END, T0, write_known_ward
from wardwatch.app.alarms.early_warning import Band
from wardwatch.app.cli import main
from wardwatch.app.review.burden import alarm_burden
from wardwatch.app.review.episodes import AlarmEpisode, alarm_episodes, technical_episodes
from wardwatch.app.review.handover import bed_shift, make_handover_report, ward_beds
from wardwatch.app.review.news2_history import entries_from_detail
from wardwatch.storage.database import open_record
from wardwatch.storage.keys import DatabaseKey, write_key_file
from wardwatch.storage.review_queries import ReviewReader, review_reader


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "station.key"
    write_key_file(path, DatabaseKey.new())
    return path


@pytest.fixture
def known_ward(tmp_path: Path, key_file: Path) -> Path:
    """The data dir of a record holding the ward described at the top of this file."""
    data = tmp_path / "data"
    write_known_ward(data, key_file)
    return data


@pytest.fixture
def reader(known_ward: Path, key_file: Path) -> ReviewReader:
    record = open_record(known_ward, key_file=key_file)
    yield review_reader(record.reader())
    record.close()


def test_the_queries_return_the_known_rows_of_a_bed_and_of_the_ward(reader):
    lines = reader.alarm_lines("bed01", T0, END)
    assert [(x.time - T0, x.action) for x in lines][:3] == [
        (3900, "raised"),
        (3930, "acknowledged"),
        (4000, "cleared"),
    ]
    assert len(lines) == 11  # bed01's lines inside the period (the entry before it is not)
    assert len(reader.alarm_lines(None, T0, END)) == 16
    assert reader.last_entry_before("bed01", T0).detail == "consciousness A, air, SpO2 scale 1"
    assert [(n.bed, n.author) for n in reader.notes(None, T0, END)] == [
        ("bed01", "nurse.a"),
        ("bed02", "nurse.b"),
    ]
    assert reader.notes("bed02", T0, END)[0].text == "Mobilised to chair."
    tech = reader.technical_lines(None, T0, END)
    assert [(t.bed, t.kind, t.active) for t in tech] == [
        ("bed01", "lead_off", True),
        ("bed01", "lead_off", False),
        ("bed02", "low_battery", True),
    ]
    (jane,) = reader.occupants("bed01", T0, END)
    assert (jane.display_name, jane.mrn, str(jane.birth_date)) == ("DOE, Jane", "MRN-4711", "1950-03-04")
    assert "Jane" not in repr(jane)
    assert reader.occupants("bed03", T0, END) == []
    assert reader.bed_labels() == {"bed01": "Bed 1", "bed02": "Bed 2", "bed03": "Bed 3"}
    assert ward_beds(reader, "2") == [("bed02", "Bed 2")]
    assert ward_beds(reader, "Bed 3") == [("bed03", "Bed 3")]
    assert ward_beds(reader, "bed09") == []


def test_journal_lines_become_one_episode_per_alarm_with_who_acknowledged_and_after_how_long(reader):
    episodes = alarm_episodes(reader.alarm_lines(None, T0, END))
    assert [(e.bed, e.key) for e in episodes] == [
        ("bed02", "arrhythmia:Asystole"),
        ("bed01", "spo2_low"),
        ("bed01", "hr_high"),
        ("bed01", "arrhythmia:Ventricular_Tachycardia"),
        ("bed01", "spo2_low"),
    ]
    asystole, spo2, hr, vt, short = episodes
    assert (asystole.acknowledged_by, asystole.ack_after_s, asystole.duration_s) == ("nurse.a", 75.0, 20.0)
    assert asystole.escalated_at == T0 + 1860
    assert (spo2.acknowledged_by, spo2.ack_after_s, spo2.message) == ("nurse.a", 30.0, "SpO₂ 89 < 90")
    assert (hr.acknowledged_by, hr.ack_after_s, hr.duration_s) == ("nurse.b", 90.0, 300.0)
    assert vt.held_back and not vt.audible and vt.reason.startswith("VT held back: slow baseline drift")
    assert vt.ack_after_s is None and vt.type_text == "Ventricular Tachycardia"
    assert short.acknowledged_by is None and short.duration_s == 10.0
    # an alarm raised before the period: its later lines alone make no episode
    assert alarm_episodes(reader.alarm_lines(None, T0 + 1830, END))[0].key == "spo2_low"


def test_technical_problems_are_episodes_from_start_to_end(reader):
    lead, battery = technical_episodes(reader.technical_lines(None, T0, END))
    assert (lead.bed, lead.text, lead.duration_s, lead.detail) == (
        "bed01",
        "Leads off",
        60.0,
        "leads off: RA",
    )
    assert (battery.bed, battery.text, battery.end) == ("bed02", "Low battery", None)


def test_news2_is_scored_again_minute_by_minute_from_the_recorded_numerics_and_entries(reader):
    shift = bed_shift(reader, "bed01", "Bed 1", T0, END)
    news2 = shift.news2
    assert len(news2) == 181
    at = {round((t - T0) / 60): i for i, t in enumerate(news2.times)}
    # hour 1: all normal, entered alert and on air → 0, complete
    assert (news2.at(at[30]), news2.band_at(at[30])) == ("0", Band.LOW)
    # hour 2: RR 22 (2) + SpO2 94 (1) + SBP 100 (2) + HR 95 (1) = 6, medium
    assert (news2.at(at[90]), news2.band_at(at[90])) == ("6", Band.MEDIUM)
    # hour 3 after the entry at 150 min: RR 26 (3) SpO2 91 (3) oxygen (2) SBP 100 (2) HR 120 (2) C (3) = 15
    assert (news2.at(at[160]), news2.band_at(at[160])) == ("15", Band.HIGH)
    # before that entry, the same numerics on air and alert: 3+3+0+2+2+0 = 10
    assert news2.at(at[140]) == "10"
    # bed02 has a heart rate only and no entries: a lower bound
    other = bed_shift(reader, "bed02", "Bed 2", T0, END).news2
    assert other.at(10) == "0+"


def test_entries_are_read_back_from_the_journal_line_the_entries_dialog_writes():
    e = entries_from_detail("consciousness V, oxygen, SpO2 scale 2")
    assert (e.consciousness, e.on_oxygen, e.spo2_scale) == ("V", True, 2)
    e = entries_from_detail("consciousness not entered, not entered, SpO2 scale 1")
    assert (e.consciousness, e.on_oxygen, e.spo2_scale) == (None, None, 1)


def test_the_hourly_vitals_hold_min_median_max_of_each_hour(reader):
    table = bed_shift(reader, "bed01", "Bed 1", T0, END).vitals()
    assert len(table.hour_starts) == 3
    rows = {r.label: r for r in table.rows}
    assert list(rows)[:3] == ["HR", "SpO₂", "RR"]
    assert [h.text() for h in rows["HR"].hours] == ["80/80/80", "95/95/95", "120/120/120"]
    assert rows["Temp"].hours[0].text(1) == "37.0/37.0/37.0"
    assert [h.text() for h in rows["NIBP sys"].hours] == ["120/120/120", "100/100/100", "100/100/100"]


def test_the_dashboard_counts_match_the_hand_counted_ward(reader):
    episodes = alarm_episodes(reader.alarm_lines(None, T0, END))
    burden = alarm_burden(episodes, [("bed01", "Bed 1"), ("bed02", "Bed 2"), ("bed03", "Bed 3")], T0, END)
    bed1, bed2, bed3 = burden.beds
    assert (bed1.total, bed1.audible, bed1.held_back, bed1.short) == (4, 3, 1, 1)
    assert bed1.by_priority == {"medium": 3, "high": 1}
    assert bed1.by_type == {"physiological": 3, "arrhythmia": 1}
    assert (bed1.acknowledged, bed1.ack_median_s, bed1.ack_p90_s) == (2, 60.0, 84.0)
    assert bed1.per_bed_day == pytest.approx(4 / (3 / 24))
    assert (bed2.total, bed2.ack_median_s) == (1, 75.0)
    assert (bed3.total, bed3.ack_median_s) == (0, None)
    ward = burden.ward
    assert (ward.total, ward.audible, ward.held_back, ward.acknowledged) == (5, 4, 1, 3)
    assert (ward.ack_median_s, ward.ack_p90_s) == (75.0, 87.0)
    assert ward.per_bed_day == pytest.approx(5 / (3 * 3 / 24))
    top = burden.frequent[0]
    assert (top.bed, top.key, top.count, top.short, top.median_s) == ("Bed 1", "spo2_low", 2, 1, 55.0)
    assert burden.suggestions == ()  # too few alarms for any advice


def _spo2_alarms(bed: str, count: int, short: int) -> list[AlarmEpisode]:
    out = []
    for i in range(count):
        t = T0 + i * 1000.0
        lasted = 8.0 if i < short else 60.0
        out.append(AlarmEpisode(bed, i, "spo2_low", "medium", t, "SpO₂ 88 < 90", cleared_at=t + lasted))
    return out


def test_many_short_spo2_alarms_give_a_concrete_suggestion_and_nothing_is_changed():
    burden = alarm_burden(_spo2_alarms("bed04", 37, 31), [("bed04", "Bed 4")], T0, T0 + 12 * 3600)
    assert burden.suggestions == (
        "SpO₂ low limit 90 % on Bed 4: 37 alarms in 12 h, 31 lasted under 15 s — consider a delay of 25 s"
        " (now 15 s) or 88 % if the patient's target allows",
    )
    # mostly long alarms are real desaturations: no advice to silence them
    assert (
        alarm_burden(_spo2_alarms("bed04", 37, 10), [("bed04", "Bed 4")], T0, T0 + 12 * 3600).suggestions
        == ()
    )


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_the_ward_report_holds_each_bed_each_alarm_and_the_news2_figures(reader, tmp_path):
    out = tmp_path / "reports" / "handover.pdf"
    seen = []
    beds = ward_beds(reader)
    make_handover_report(reader, beds, T0, END, out, "Ward 7", lambda done, total: seen.append((done, total)))
    assert seen[-1] == (4, 4) and len(seen) == 4
    assert out.stat().st_mode & 0o077 == 0
    text = _pdf_text(out)
    for needle in (
        "Handover report",
        "Ward 7",
        "Bed 1",
        "Bed 2",
        "Bed 3",
        "DOE, Jane",
        "MRN-4711",
        "SMITH, John",
    ):
        assert needle in text, needle
    for alarm in ("Asystole", "SpO2 89 < 90", "SpO2 88 < 90", "HR 125 > 120", "Ventricular Tachycardia"):
        assert alarm in text, alarm
    assert "slow baseline drift on every lead" in text  # the held-back alarm's reasoning
    assert "nurse.a" in text and "nurse.b" in text
    assert "NEWS2 at the end 15 (high), highest 15" in text
    assert "Leads off" in text and "Low battery" in text
    assert "daughter called at 02:00 & will visit" in text
    assert "Mobilised to chair." in text
    assert "not a certified medical device" in text
    assert "no patient admitted in this period" in text  # bed 3


def test_the_command_line_writes_the_report_of_one_bed_and_refuses_a_bed_it_does_not_know(
    known_ward, key_file, tmp_path, capsys, caplog
):
    out = tmp_path / "bed1.pdf"
    common = ["--data-dir", str(known_ward), "--key-file", str(key_file), "--hours", "3"]
    end = "2026-09-22T01:00:00"
    assert main(["report", "handover", "--bed", "1", "--end", end, "--out", str(out), *common]) == 0
    text = _pdf_text(out)
    assert "DOE, Jane" in text and "Bed 2" not in text
    assert (
        main(["report", "handover", "--bed", "9", "--end", end, "--out", str(tmp_path / "x.pdf"), *common])
        == 2
    )
    assert "there is no bed '9'" in capsys.readouterr().err
    assert main(["report", "handover", "--ward", "--out", str(tmp_path / "x.txt"), *common]) == 2
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    assert main(["report", "handover", "--end", end, "--out", str(not_a_folder / "r.pdf"), *common]) == 2
    assert "cannot write" in capsys.readouterr().err
    assert main(["report", "handover", "--out", str(out), *common[:4], "--hours", "100"]) == 2
    # the patient's details and the notes' text never reach a log line
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Jane" not in logged and "daughter" not in logged


def test_the_hours_of_the_vitals_table_are_clock_hours_with_the_ends_partial(reader):
    table = bed_shift(reader, "bed01", "Bed 1", T0 + 1800, END - 600).vitals()
    assert table.hour_starts == (T0 + 1800, T0 + 3600, T0 + 7200)
    hr = next(r for r in table.rows if r.label == "HR")
    assert [h.text() for h in hr.hours] == ["80/80/80", "95/95/95", "120/120/120"]


def test_advice_keeps_heart_rate_delays_within_the_standard_and_does_not_blame_sensors_for_the_station():
    hr = [
        AlarmEpisode(
            "bed02", i, "hr_high", "medium", T0 + i * 900.0, "HR 125 > 120", cleared_at=T0 + i * 900.0 + 5
        )
        for i in range(20)
    ]
    (advice,) = alarm_burden(hr, [("bed02", "Bed 2")], T0, T0 + 12 * 3600).suggestions
    assert advice == (
        "HR high limit 120 bpm on Bed 2: 20 alarms in 12 h, 20 lasted under 15 s — consider a delay of 10 s"
        " (now 6 s) or 125 bpm if the patient's target allows"
    )
    off = [
        AlarmEpisode(
            "bed02", i, "technical:arrhythmia_analysis", "medium", T0 + i, "x", cleared_at=T0 + i + 1
        )
        for i in range(8)
    ]
    (advice,) = alarm_burden(off, [("bed02", "Bed 2")], T0, T0 + 12 * 3600).suggestions
    assert advice.startswith(
        "Arrhythmia analysis off on Bed 2: 8 times in 12 h — a device or station problem"
    )


@pytest.mark.parametrize(
    ("key", "text", "category"),
    [
        ("technical:device:pump:insulin1@bed02:silent", "Pump insulin1: not reporting", "technical"),
        ("technical:device:pump:heparin@bed01:occlusion", "Pump heparin: occlusion", "technical"),
        ("deterioration_risk", "Deterioration risk", "advisory"),
        ("news2_high", "NEWS2 high", "news2"),
        ("arrhythmia:Ventricular_Tachycardia", "Ventricular Tachycardia", "arrhythmia"),
        ("glucose_low", "Glucose low", "physiological"),
    ],
)
def test_every_feature_alarm_is_named_and_counted_in_its_own_category(key, text, category):
    from wardwatch.app.alarms.findings import category_of
    from wardwatch.app.review.episodes import alarm_type_text

    assert alarm_type_text(key) == text
    assert category_of(key).value == category
