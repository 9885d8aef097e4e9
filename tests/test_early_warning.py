"""NEWS2 (RCP 2017): every boundary of every parameter, the bands, rounding and incomplete sets."""

from __future__ import annotations

from dataclasses import replace

import pytest
from wardwatch.app.alarms.early_warning import (
    Band,
    Consciousness,
    News2Inputs,
    score_news2,
    score_pulse,
    score_rr,
    score_sbp,
    score_spo2,
    score_temp,
)

NORMAL = News2Inputs(
    rr=16, spo2=97, spo2_scale=1, on_oxygen=False, sbp=120, pulse=70, consciousness=Consciousness.A, temp=37.0
)


@pytest.mark.parametrize(
    ("rr", "points"), [(8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3), (0, 3), (40, 3)]
)
def test_respiration_rate_boundaries(rr, points):
    assert score_rr(rr) == points


@pytest.mark.parametrize(("spo2", "points"), [(91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)])
def test_spo2_scale_1_boundaries(spo2, points):
    assert score_spo2(spo2, 1, on_oxygen=False) == points
    assert score_spo2(spo2, 1, on_oxygen=True) == points  # oxygen is scored apart on scale 1


@pytest.mark.parametrize(
    ("spo2", "on_oxygen", "points"),
    [
        (83, False, 3),
        (84, False, 2),
        (85, False, 2),
        (86, False, 1),
        (87, False, 1),
        (88, False, 0),
        (92, False, 0),
        (93, False, 0),
        (99, False, 0),
        (92, True, 0),
        (93, True, 1),
        (94, True, 1),
        (95, True, 2),
        (96, True, 2),
        (97, True, 3),
        (100, True, 3),
    ],
)
def test_spo2_scale_2_boundaries_on_air_and_on_oxygen(spo2, on_oxygen, points):
    assert score_spo2(spo2, 2, on_oxygen) == points


@pytest.mark.parametrize(
    ("sbp", "points"), [(90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3)]
)
def test_systolic_pressure_boundaries(sbp, points):
    assert score_sbp(sbp) == points


@pytest.mark.parametrize(
    ("pulse", "points"),
    [(40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2), (130, 2), (131, 3)],
)
def test_pulse_boundaries(pulse, points):
    assert score_pulse(pulse) == points


@pytest.mark.parametrize(
    ("temp", "points"),
    [(35.0, 3), (35.1, 1), (36.0, 1), (36.1, 0), (38.0, 0), (38.1, 1), (39.0, 1), (39.1, 2), (41.0, 2)],
)
def test_temperature_boundaries(temp, points):
    assert score_temp(temp) == points


@pytest.mark.parametrize(
    ("value", "scorer", "points"),
    [
        (36.05, score_temp, 0),  # rounds half-up to 36.1
        (36.04, score_temp, 1),
        (35.05, score_temp, 1),  # 35.1
        (38.05, score_temp, 1),  # 38.1
        (91.5, lambda v: score_spo2(v, 1), 2),  # 92
        (91.4, lambda v: score_spo2(v, 1), 3),
        (20.5, score_rr, 2),  # 21
        (90.5, score_pulse, 1),  # 91
        (110.5, score_sbp, 0),  # 111
    ],
)
def test_values_are_rounded_half_up_before_scoring(value, scorer, points):
    assert scorer(value) == points


def test_consciousness_other_than_alert_scores_three():
    for level in (Consciousness.C, Consciousness.V, Consciousness.P, Consciousness.U):
        score = score_news2(replace(NORMAL, consciousness=level))
        assert score.parameter_scores["consciousness"] == 3
        assert score.band is Band.LOW_MEDIUM


def test_normal_set_scores_zero_and_low():
    score = score_news2(NORMAL)
    assert score.total == 0 and score.band is Band.LOW and score.complete and score.text == "0"


@pytest.mark.parametrize(
    ("changes", "total", "band"),
    [
        ({"pulse": 95}, 1, Band.LOW),
        ({"pulse": 95, "rr": 22, "temp": 38.5}, 4, Band.LOW),  # 1 + 2 + 1
        ({"rr": 25}, 3, Band.LOW_MEDIUM),  # a single 3 with a total under 5
        ({"rr": 25, "pulse": 95}, 4, Band.LOW_MEDIUM),
        ({"rr": 25, "pulse": 115}, 5, Band.MEDIUM),  # 3 + 2: the total band wins
        ({"rr": 22, "pulse": 115, "on_oxygen": True}, 6, Band.MEDIUM),
        ({"rr": 22, "pulse": 115, "on_oxygen": True, "temp": 38.5}, 7, Band.HIGH),
        ({"rr": 30, "spo2": 90, "sbp": 85, "pulse": 140, "consciousness": Consciousness.U}, 15, Band.HIGH),
    ],
)
def test_band_boundaries(changes, total, band):
    score = score_news2(replace(NORMAL, **changes))
    assert (score.total, score.band) == (total, band)


def test_oxygen_scores_two_on_either_scale():
    on_o2 = score_news2(replace(NORMAL, on_oxygen=True))
    assert on_o2.parameter_scores["air_or_oxygen"] == 2 and on_o2.total == 2


def test_a_missing_parameter_makes_a_lower_bound_not_a_complete_score():
    score = score_news2(News2Inputs(rr=25, spo2=97, pulse=115, temp=37.0))
    assert not score.complete
    assert set(score.missing) == {"air_or_oxygen", "sbp", "consciousness"}
    assert score.total == 5 and score.text == "5+" and score.band is Band.MEDIUM


def test_scale_must_be_one_or_two():
    with pytest.raises(ValueError, match="scale"):
        score_news2(News2Inputs(spo2_scale=3))


def test_eval_news2_scores_each_row_and_names_the_malformed_one(tmp_path, capsys):
    from wardwatch.app.cli import main

    src = tmp_path / "in.csv"
    src.write_text(
        "rr,spo2,spo2_scale,on_oxygen,sbp,pulse,consciousness,temp\n"
        "16,97,1,0,120,70,A,37.0\n"
        "25,90,1,yes,85,140,U,39.5\n"
        "16,ninety,1,0,120,70,A,37.0\n"
        "22,95,2,1,105,115,a,38.4\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    code = main(["eval", "news2", str(src), "--out", str(out)])
    assert code == 1
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].endswith(",score,band")
    assert lines[1].endswith(",0,low")
    assert lines[2].endswith(",19,high")  # RR 3, SpO2 3, oxygen 2, SBP 3, pulse 3, ACVPU 3, temp 2
    assert lines[3].endswith(",,error")
    assert lines[4].endswith(",10,high")  # RR 2, SpO2 (scale 2, 95 on O2) 2, oxygen 2, SBP 1, pulse 2, temp 1
    err = capsys.readouterr().err
    assert "line 4" in err and "spo2" in err


def test_eval_news2_without_its_columns_says_which_are_missing(tmp_path, capsys):
    from wardwatch.app.cli import main

    src = tmp_path / "in.csv"
    src.write_text("rr,spo2\n16,97\n", encoding="utf-8")
    assert main(["eval", "news2", str(src), "--out", str(tmp_path / "o.csv")]) == 2
    assert "sbp" in capsys.readouterr().err
