"""Exports of the record: EDF+ and WFDB read back by their own libraries, CSV read back as text.

The record is filled the way the recorder fills it (4 s blocks through `wave_row`, minute rows through
`trend_row`) with 20 s of a 250 Hz ECG holding a half-second lead-off, a 125 Hz pleth, a 62.5 Hz
respiration and per-second HR and SpO₂.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyedflib
import pytest
import wfdb
from sqlalchemy import insert
from wardwatch.app.codes import MdcCode
from wardwatch.storage import schema
from wardwatch.storage.database import Record, open_record
from wardwatch.storage.export import (
    ExportError,
    export_events_csv,
    export_file_name,
    export_trends_csv,
    export_waves_csv,
    export_waves_edf,
    export_waves_wfdb,
)
from wardwatch.storage.keys import DatabaseKey, write_key_file
from wardwatch.storage.reader import RecordReader
from wardwatch.storage.recorder import trend_row, wave_row
from wardwatch.storage.writer import Row

T0 = 1_750_000_020.0  # 2025-06-15 15:07:00 UTC, on a minute boundary
SECONDS = 20.0
BED = "bed03"
ECG = int(MdcCode.ECG_ELEC_POTL_II)
PLETH = int(MdcCode.PULS_OXIM_PLETH)
RESP = int(MdcCode.RESP)
HR = int(MdcCode.ECG_HEART_RATE)
SPO2 = int(MdcCode.PULS_OXIM_SAT_O2)
LEAD_OFF = (10.0, 10.5)  # seconds after T0 without ECG
# one EDF/WFDB step over the ECG's range (~2.2 mV / 65535) is ~0.03 µV; the stored blocks add as much
ECG_TOLERANCE_MV = 0.002


def ecg(t: np.ndarray) -> np.ndarray:
    x = np.sin(2 * np.pi * 1.2 * t) + 0.2 * np.sin(2 * np.pi * 17 * t)
    off = (t >= LEAD_OFF[0]) & (t < LEAD_OFF[1])
    return np.where(off, np.nan, x)


def pleth(t: np.ndarray) -> np.ndarray:
    return 0.5 + 0.4 * np.sin(2 * np.pi * 1.2 * t - 1.0)


def resp(t: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * 0.25 * t)


WAVES = {ECG: (250.0, "mV", ecg), PLETH: (125.0, "1", pleth), RESP: (62.5, "1", resp)}


def insert_rows(record: Record, rows: list[Row]) -> None:
    with record.engine.begin() as conn:
        for row in rows:
            conn.execute(insert(row.table), row.values)


def wave_rows(bed: str, t0: float, seconds: float) -> list[Row]:
    """The channels of WAVES cut into 4 s blocks, as the recorder writes them."""
    rows = []
    for code, (rate, unit, shape) in WAVES.items():
        n = int(seconds * rate)
        rel = np.arange(n) / rate
        values = shape(rel)
        per_block = int(4 * rate)
        for a in range(0, n, per_block):
            rows.append(wave_row(bed, code, rate, unit, t0 + rel[a], values[a : a + per_block]))
    return rows


def alarm(time: float, bed: str, key: str, priority: str, action: str, user: str, detail: str) -> dict:
    return {
        "time": time,
        "bed_id": bed,
        "alarm_id": 1,
        "key": key,
        "priority": priority,
        "action": action,
        "user": user,
        "detail": detail,
    }


@pytest.fixture
def record(tmp_path: Path) -> Iterator[Record]:
    key_file = tmp_path / "key"
    write_key_file(key_file, DatabaseKey.new())
    rec = open_record(tmp_path / "data", key_file=key_file)
    rows = wave_rows(BED, T0, SECONDS)
    minute = int(T0 // 60)
    hr = np.full(60, np.nan, np.float32)
    hr[:20] = 60 + np.arange(20)
    spo2 = np.full(60, np.nan, np.float32)
    spo2[:10] = 97.5
    rows += [trend_row(BED, HR, minute, hr), trend_row(BED, SPO2, minute, spo2)]
    insert_rows(rec, rows)
    with rec.engine.begin() as conn:
        conn.execute(
            insert(schema.alarm_events),
            [
                alarm(T0 + 3.25, BED, "HR_HIGH", "high", "raised", "", "HR 140 > 120"),
                alarm(T0 + 9.0, "bed07", "SPO2_LOW", "medium", "raised", "", "SpO2 86 < 90"),
                alarm(T0 + 12.5, BED, "HR_HIGH", "high", "acknowledged", "nurse1", ""),
            ],
        )
        conn.execute(
            insert(schema.technical_events),
            {"time": T0 + LEAD_OFF[0], "bed_id": BED, "kind": "leads_off", "active": True, "detail": "II"},
        )
    yield rec
    rec.close()


@pytest.fixture
def reader(record: Record) -> RecordReader:
    return record.reader()


def edf_start(path: Path) -> float:
    """The start of an EDF+ file (UTC seconds) as the standard puts it: the header's whole second plus the
    first time-keeping TAL's fraction. Read from the bytes, because pyedflib 0.1.42 reads the fraction
    ten times too small (holgern/pyedflib#315): only another reader can show the file is right."""
    raw = path.read_bytes()
    day, month, year = (int(x) for x in raw[168:176].decode().split("."))
    hour, minute, second = (int(x) for x in raw[176:184].decode().split("."))
    whole = datetime(1900 + year if year >= 85 else 2000 + year, month, day, hour, minute, second, tzinfo=UTC)
    header_bytes, n = int(raw[184:192]), int(raw[252:256])
    labels = [raw[256 + 16 * i : 272 + 16 * i].decode().strip() for i in range(n)]
    per_record = [int(raw[256 + 216 * n + 8 * i : 264 + 216 * n + 8 * i]) for i in range(n)]
    k = labels.index("EDF Annotations")
    first = raw[header_bytes + 2 * sum(per_record[:k]) :].split(b"\x14", 1)[0]
    return whole.timestamp() + float(first.decode())


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


# -- EDF+ ------------------------------------------------------------------------------------------------


def test_edf_round_trip_gives_each_channel_at_its_own_rate_within_quantisation(reader, tmp_path):
    path = tmp_path / "out.edf"
    export_waves_edf(reader, BED, T0, T0 + SECONDS, path)

    f = pyedflib.EdfReader(str(path))
    try:
        assert f.getSignalLabels() == ["II", "Pleth", "Resp"]
        assert [f.getPhysicalDimension(i) for i in range(3)] == ["mV", "NU", "NU"]
        assert list(f.getSampleFrequencies()) == [250.0, 125.0, 62.5]
        assert f.datarecord_duration == 2  # 62.5 Hz needs 2 s for a whole number of samples
        assert f.getStartdatetime() == datetime.fromtimestamp(T0, UTC).replace(tzinfo=None)
        assert edf_start(path) == T0
        assert f.getFileDuration() == SECONDS
        signals = {label: f.readSignal(i) for i, label in enumerate(f.getSignalLabels())}
        physical_min = f.getPhysicalMinimum(0)
        onsets, durations, texts = f.readAnnotations()
    finally:
        f.close()

    t = np.arange(5000) / 250.0
    expected = ecg(t)
    recorded = np.isfinite(expected)
    np.testing.assert_allclose(signals["II"][recorded], expected[recorded], atol=ECG_TOLERANCE_MV)
    # the lead-off is written as the physical minimum and said so in an annotation
    assert np.all(signals["II"][~recorded] == physical_min)
    assert list(texts) == ["gap II"]
    assert onsets[0] == pytest.approx(LEAD_OFF[0])
    assert durations[0] == pytest.approx(LEAD_OFF[1] - LEAD_OFF[0])
    np.testing.assert_allclose(signals["Pleth"], pleth(np.arange(2500) / 125.0), atol=1e-4)
    np.testing.assert_allclose(signals["Resp"], resp(np.arange(1250) / 62.5), atol=1e-4)


def test_edf_start_off_the_sample_grid_moves_on_to_the_next_sample_instead_of_interpolating(reader, tmp_path):
    path = tmp_path / "out.edf"
    # 5 ms after a sample: the file starts at the next point where all three channels have a sample
    export_waves_edf(reader, BED, T0 + 2.005, T0 + 6.0, path)

    f = pyedflib.EdfReader(str(path))
    try:
        ecg_back = f.readSignal(0)
    finally:
        f.close()
    assert edf_start(path) == pytest.approx(T0 + 2.016, abs=1e-6)
    n = int((6.0 - 2.016) * 250)
    np.testing.assert_allclose(ecg_back[:n], ecg(2.016 + np.arange(n) / 250.0), atol=ECG_TOLERANCE_MV)


def test_edf_keeps_a_flat_channel_at_its_value(record, reader, tmp_path):
    t = T0 + np.arange(1000) / 250.0
    insert_rows(record, [wave_row("bed05", ECG, 250.0, "mV", float(t[0]), np.full(1000, 0.25))])
    path = tmp_path / "flat.edf"
    export_waves_edf(reader, "bed05", T0, T0 + 4.0, path)

    f = pyedflib.EdfReader(str(path))
    try:
        back = f.readSignal(0)
    finally:
        f.close()
    np.testing.assert_allclose(back, 0.25, atol=1e-4)


def test_edf_joins_the_closest_gaps_when_more_drop_outs_than_annotations_fit(record, reader, tmp_path):
    # 1 s in one data record: room for 64 annotations, but the lead drops out 100 times
    values = np.sin(np.arange(250) / 10.0)
    dropped = np.zeros(250, bool)
    for i in range(100):
        dropped[2 * i + (i > 50) * 40] = True  # two bursts of one-sample drop-outs, 40 samples apart
    values[dropped] = np.nan
    insert_rows(record, [wave_row("bed06", ECG, 250.0, "mV", T0, values)])
    path = tmp_path / "dropouts.edf"
    export_waves_edf(reader, "bed06", T0, T0 + 1.0, path)

    f = pyedflib.EdfReader(str(path))
    try:
        onsets, durations, _ = f.readAnnotations()
    finally:
        f.close()
    assert len(onsets) == 64
    covered = np.zeros(250, bool)
    for onset, duration in zip(onsets, durations, strict=True):
        covered[round(onset * 250) : round((onset + duration) * 250)] = True
    assert covered[dropped].all()  # every missing sample is still said to be missing
    assert covered.sum() < 250


def test_edf_export_of_a_bed_without_waveforms_raises_export_error_and_writes_nothing(reader, tmp_path):
    path = tmp_path / "none.edf"
    expected = "no waveforms recorded for bed09 between 2025-06-15T15:07:00.000Z and 2025-06-15T15:07:20.000Z"
    with pytest.raises(ExportError, match=re.escape(expected)):
        export_waves_edf(reader, "bed09", T0, T0 + SECONDS, path)
    assert list(tmp_path.glob("*.edf*")) == []


# -- WFDB ------------------------------------------------------------------------------------------------


def test_wfdb_round_trip_puts_every_channel_on_the_fastest_grid(reader, tmp_path):
    written = export_waves_wfdb(reader, BED, T0, T0 + SECONDS, tmp_path, "bed03_review")
    assert written == [tmp_path / "bed03_review.hea", tmp_path / "bed03_review.dat"]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in written)

    rec = wfdb.rdrecord(str(tmp_path / "bed03_review"))
    assert rec.fs == 250
    assert rec.sig_name == ["II", "Pleth", "Resp"]
    assert rec.units == ["mV", "NU", "NU"]
    assert datetime.combine(rec.base_date, rec.base_time, UTC).timestamp() == T0
    assert rec.sig_len == 5000
    t = np.arange(5000) / 250.0
    expected = ecg(t)
    recorded = np.isfinite(expected)
    np.testing.assert_allclose(rec.p_signal[recorded, 0], expected[recorded], atol=ECG_TOLERANCE_MV)
    assert np.all(np.isnan(rec.p_signal[~recorded, 0]))
    # pleth as recorded on its own samples, the straight line between them in between
    pleth_back = rec.p_signal[:, 1]
    np.testing.assert_allclose(pleth_back[0:-1:2], pleth(t[0:-1:2]), atol=1e-4)
    midpoints = (pleth(t[0:-2:2]) + pleth(t[2::2])) / 2
    np.testing.assert_allclose(pleth_back[1:-1:2], midpoints, atol=1e-4)
    # after the last pleth sample there is nothing to interpolate towards
    assert np.isnan(pleth_back[-1])
    np.testing.assert_allclose(rec.p_signal[0:-4:4, 2], resp(t[0:-4:4]), atol=1e-4)


def test_wfdb_writes_a_channel_without_a_single_value_as_nan(record, reader, tmp_path):
    t = T0 + np.arange(500) / 125.0
    insert_rows(
        record,
        [
            wave_row("bed05", ECG, 250.0, "mV", T0, np.sin(np.arange(1000) / 9)),
            wave_row("bed05", PLETH, 125.0, "1", float(t[0]), np.full(500, np.nan)),  # probe off all along
        ],
    )
    export_waves_wfdb(reader, "bed05", T0, T0 + 4.0, tmp_path, "probe_off")

    rec = wfdb.rdrecord(str(tmp_path / "probe_off"))
    assert rec.sig_name == ["II", "Pleth"]
    assert np.isnan(rec.p_signal[:, 1]).all()
    np.testing.assert_allclose(rec.p_signal[:, 0], np.sin(np.arange(1000) / 9), atol=ECG_TOLERANCE_MV)


def test_wfdb_refuses_a_record_name_it_cannot_hold(reader, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ExportError, match="record name"):
        export_waves_wfdb(reader, BED, T0, T0 + SECONDS, out, "../bed03 review")
    assert list(out.iterdir()) == []


def test_wfdb_export_of_an_empty_period_raises_export_error(reader, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ExportError, match="no waveforms recorded for bed03"):
        export_waves_wfdb(reader, BED, T0 + 100, T0 + 200, out, "empty")
    assert list(out.iterdir()) == []


# -- CSV -------------------------------------------------------------------------------------------------


def test_waves_csv_has_one_row_per_ecg_sample_with_slower_channels_interpolated(reader, tmp_path):
    path = tmp_path / "waves.csv"
    export_waves_csv(reader, BED, T0, T0 + SECONDS, path)

    rows = read_csv(path)
    assert rows[0] == ["time_utc", "II [mV]", "Pleth [NU]", "Resp [NU]"]
    body = rows[1:]
    assert len(body) == 5000
    assert [r[0] for r in body[:3]] == [
        "2025-06-15T15:07:00.000Z",
        "2025-06-15T15:07:00.004Z",
        "2025-06-15T15:07:00.008Z",
    ]
    assert body[-1][0] == "2025-06-15T15:07:19.996Z"
    t = np.arange(5000) / 250.0
    assert float(body[1][1]) == pytest.approx(ecg(t[1:2])[0], abs=ECG_TOLERANCE_MV)
    assert float(body[2][2]) == pytest.approx(pleth(t[2:3])[0], abs=1e-4)
    assert float(body[1][2]) == pytest.approx((pleth(t[0:1])[0] + pleth(t[2:3])[0]) / 2, abs=1e-4)
    # the lead-off leaves the ECG cells empty and the others filled
    lead_off = body[2500]
    assert lead_off[0] == "2025-06-15T15:07:10.000Z"
    assert lead_off[1] == ""
    assert lead_off[2] != "" and lead_off[3] != ""
    assert body[-1][2] == "" and body[-1][3] == ""


def test_trends_csv_has_a_column_per_numeric_and_empty_cells_where_it_has_no_value(reader, tmp_path):
    path = tmp_path / "trends.csv"
    export_trends_csv(reader, BED, T0, T0 + 59, path)

    rows = read_csv(path)
    assert rows[0] == ["time_utc", "HR [bpm]", "SpO2 [%]"]
    assert rows[1] == ["2025-06-15T15:07:00.000Z", "60", "97.5"]
    assert rows[11] == ["2025-06-15T15:07:10.000Z", "70", ""]
    assert rows[20] == ["2025-06-15T15:07:19.000Z", "79", ""]
    assert len(rows) == 21


def test_events_csv_of_one_bed_lists_its_alarms_and_technical_events_oldest_first(reader, tmp_path):
    path = tmp_path / "events.csv"
    export_events_csv(reader, BED, T0, T0 + SECONDS, path)

    assert read_csv(path) == [
        ["time_utc", "bed", "kind", "key", "priority", "user", "detail"],
        ["2025-06-15T15:07:03.250Z", BED, "raised", "HR_HIGH", "high", "", "HR 140 > 120"],
        ["2025-06-15T15:07:10.000Z", BED, "technical on", "leads_off", "", "", "II"],
        ["2025-06-15T15:07:12.500Z", BED, "acknowledged", "HR_HIGH", "high", "nurse1", ""],
    ]


def test_events_csv_of_the_ward_includes_every_bed(reader, tmp_path):
    path = tmp_path / "events.csv"
    export_events_csv(reader, None, T0, T0 + SECONDS, path)

    assert [row[1] for row in read_csv(path)[1:]] == [BED, "bed07", BED, BED]


def test_trend_and_event_exports_of_an_empty_period_raise_export_error(reader, tmp_path):
    with pytest.raises(ExportError, match="no trends recorded for bed09"):
        export_trends_csv(reader, "bed09", T0, T0 + SECONDS, tmp_path / "t.csv")
    with pytest.raises(ExportError, match="no events recorded for the ward"):
        export_events_csv(reader, None, T0 + 100, T0 + 200, tmp_path / "e.csv")
    with pytest.raises(ExportError, match="period to export is empty"):
        export_waves_csv(reader, BED, T0 + 5, T0 + 5, tmp_path / "w.csv")
    assert list(tmp_path.glob("*.csv*")) == []


def test_export_file_names_hold_the_bed_and_time_only():
    assert export_file_name(BED, T0 + 0.7, "waves", ".edf") == "bed03-20250615T150700Z-waves.edf"
    assert export_file_name(None, T0, "events", ".csv") == "ward-20250615T150700Z-events.csv"
