"""Features and predictions look only backwards: a patient's hour t never depends on a later hour, nor on
another patient. Real rows of PhysioNet 2019 set A."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import numpy as np
import pytest
from wardwatch.app.alarms.early_warning import score_pulse, score_rr, score_sbp, score_spo2, score_temp
from wardwatch.app.deterioration import news2_vector
from wardwatch.app.deterioration.features import STAY_HORIZON_H, compute_features, patient_starts
from wardwatch.app.deterioration.model import load_model
from wardwatch.app.deterioration.table import read_table


def first_rows(shared_data: Path, n: int) -> list[str]:
    with gzip.open(shared_data / "physionet2019" / "setA.csv.gz", "rt") as f:
        return list(itertools.islice(f, n + 1))


@pytest.fixture(scope="module")
def sample_csv(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    path = tmp_path_factory.mktemp("setA") / "first.csv"
    path.write_text("".join(first_rows(shared_data, 3000)))
    return path


def test_features_of_an_hour_do_not_change_when_later_hours_are_removed(sample_csv: Path):
    table = read_table(sample_csv)
    full = compute_features(table.columns, table.starts).matrix
    # cut every patient after a random hour of its own, then compare the hours that remain
    rng = np.random.default_rng(3)
    keep = np.ones(len(table), dtype=bool)
    for first in np.unique(table.starts):
        last = first + int(np.sum(table.starts == first))
        cut = int(rng.integers(first + 1, last + 1))
        keep[cut:last] = False
    new_index = np.cumsum(keep) - 1
    cut_starts = new_index[table.starts[keep]]
    cut_cols = {k: v[keep] for k, v in table.columns.items()}
    shorter = compute_features(cut_cols, cut_starts).matrix
    np.testing.assert_array_equal(shorter, full[keep])


def test_predictions_of_an_hour_do_not_change_when_later_hours_are_removed(sample_csv: Path, tmp_path: Path):
    model = load_model()
    table = read_table(sample_csv)
    risk = model.risk(compute_features(table.columns, table.starts))
    lines = sample_csv.read_text().splitlines()
    patient = table.patients[0]
    hours = int(np.sum(table.patients == patient))
    for t in (1, 5, hours // 2, hours):
        cut = tmp_path / f"cut{t}.csv"
        cut.write_text("\n".join(lines[: 1 + t]) + "\n")  # the patient's first t hours only
        short = read_table(cut)
        short_risk = model.risk(compute_features(short.columns, short.starts))
        np.testing.assert_allclose(short_risk, risk[:t], rtol=0, atol=1e-12)


def test_a_patient_never_sees_the_patient_before_it(sample_csv: Path):
    table = read_table(sample_csv)
    full = compute_features(table.columns, table.starts).matrix
    second = int(np.flatnonzero(table.starts > 0)[0])
    alone_cols = {k: v[second:] for k, v in table.columns.items()}
    alone = compute_features(alone_cols, table.starts[second:] - second).matrix
    np.testing.assert_array_equal(alone, full[second:])


def test_patient_starts_mark_each_patients_first_row():
    starts = patient_starts(np.array(["a", "a", "b", "b", "b", "c"], dtype=object))
    assert starts.tolist() == [0, 0, 2, 2, 2, 5]


@pytest.mark.parametrize(
    ("vector", "scalar", "values"),
    [
        (news2_vector.score_resp, score_rr, np.arange(0.0, 40.0, 0.25)),
        (news2_vector.score_spo2_air, score_spo2, np.arange(70.0, 100.5, 0.25)),
        (news2_vector.score_sbp, score_sbp, np.arange(60.0, 240.0, 0.25)),
        (news2_vector.score_pulse, score_pulse, np.arange(20.0, 180.0, 0.25)),
        (news2_vector.score_temp, score_temp, np.round(np.arange(33.0, 41.0, 0.05), 2)),
    ],
)
def test_column_news2_scores_as_the_chart_value_by_value(vector, scalar, values):
    assert vector(values).tolist() == [scalar(float(v)) for v in values]


def test_column_news2_scores_a_missing_value_zero():
    nan = np.array([np.nan])
    assert news2_vector.news2_vitals(hr=nan, spo2=nan, temp=nan, sbp=nan, resp=nan).tolist() == [0]


def repeating_stay(hours: int) -> dict[str, np.ndarray]:
    """A patient whose every 12 hours are alike (vitals swinging within the half-day, a laboratory panel
    at its start), with one lactate on the second hour and none after."""
    t = np.arange(hours, dtype=np.float64)
    phase = t % 12
    nan = np.full(hours, np.nan)
    panel = np.where(phase == 0, 1.0, np.nan)
    return {
        "ICULOS": t + 1,
        "Age": np.full(hours, 67.0),
        "Gender": np.full(hours, 1.0),
        "HR": 80 + 2 * phase,
        "O2Sat": 97 - (phase % 3),
        "Temp": np.where(phase % 4 == 0, 37.0 + 0.05 * phase, np.nan),
        "SBP": 120 - phase,
        "MAP": 85 - phase / 2,
        "DBP": 70 - phase / 3,
        "Resp": 16 + (phase % 5),
        "EtCO2": nan,
        "WBC": 9.0 * panel,
        "Creatinine": 1.1 * panel,
        "Platelets": 210.0 * panel,
        "Lactate": np.where(t == 1, 2.1, np.nan),
    }


def test_a_stay_reads_the_same_on_every_day_past_the_horizon():
    # In set A only septic patients are recorded past 59 h, so a model that could read the stay's length
    # would raise every long stay's risk; past STAY_HORIZON_H a stay that repeats itself must look alike.
    hours = 132
    features = compute_features(repeating_stay(hours), np.zeros(hours, dtype=np.int64))
    later = [h for h in range(hours) if h >= STAY_HORIZON_H + 12 and h % 12 == 11]  # whole half-days behind
    assert len(later) >= 6
    for h in later[1:]:
        np.testing.assert_allclose(features.matrix[h], features.matrix[later[0]], rtol=1e-6, equal_nan=True)


def test_hours_on_the_unit_and_since_a_measurement_stop_counting_at_the_horizon():
    hours = 100
    features = compute_features(repeating_stay(hours), np.zeros(hours, dtype=np.int64))
    row = dict(zip(features.names, features.matrix[-1], strict=True))
    assert row["ICULOS"] == STAY_HORIZON_H
    assert row["Lactate_hours_since"] == STAY_HORIZON_H
    assert row[f"Lactate_count{STAY_HORIZON_H}"] == 0
    assert row["Lactate"] == pytest.approx(2.1)  # the value itself is still carried forward


def test_a_value_older_than_the_horizon_no_longer_sets_the_lowest_or_the_own_mean():
    # whole-stay extremes widen with the stay's length, which would let the model read it back
    hours = STAY_HORIZON_H + 14
    stay = repeating_stay(hours)
    stay["HR"] = np.where(np.arange(hours) == 0, 40.0, 80.0)
    features = compute_features(stay, np.zeros(hours, dtype=np.int64))
    row = dict(zip(features.names, features.matrix[-1], strict=True))
    assert row["HR_above_lowest"] == 0.0
    assert row["HR_from_own_mean"] == 0.0
    early = dict(zip(features.names, features.matrix[STAY_HORIZON_H - 1], strict=True))
    assert early["HR_above_lowest"] == 40.0  # within the horizon it still counts
