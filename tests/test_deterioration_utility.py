"""The PhysioNet 2019 utility score against cases worked out by hand from the paper's definition."""

from __future__ import annotations

import numpy as np
import pytest
from wardwatch.app.deterioration.utility import patient_utility, row_utilities, utility_score

# A septic patient of 20 hours whose label starts at hour 10: onset (t_sepsis) is hour 16, the optimal
# alarm hour 10, the reward window hours 4-19 (12 h before to 3 h after onset).
SEPTIC = np.array([0] * 10 + [1] * 10)


def alarms_at(*hours: int, n: int = 20) -> np.ndarray:
    out = np.zeros(n, dtype=int)
    out[list(hours)] = 1
    return out


def test_alarms_on_a_patient_without_sepsis_cost_five_hundredths_each():
    assert patient_utility([0] * 5, [0, 1, 0, 1, 0]) == pytest.approx(-0.10)
    assert patient_utility([0] * 5, [0] * 5) == 0.0


def test_never_alarming_on_sepsis_costs_the_late_misses_down_to_minus_two():
    # misses at 5 h .. 3 h after onset-6h: -2/9 * (1 + 2 + ... + 9) = -10
    assert patient_utility(SEPTIC, alarms_at()) == pytest.approx(-10.0)


def test_an_alarm_six_hours_before_onset_earns_the_full_reward():
    assert patient_utility(SEPTIC, alarms_at(10)) == pytest.approx(1.0 - 10.0)


def test_an_alarm_twelve_hours_before_onset_earns_nothing_and_earlier_costs_a_false_alarm():
    assert patient_utility(SEPTIC, alarms_at(4)) == pytest.approx(-10.0)
    assert patient_utility(SEPTIC, alarms_at(0)) == pytest.approx(-10.05)
    assert patient_utility(SEPTIC, alarms_at(7)) == pytest.approx(0.5 - 10.0)  # halfway up: 3 h of 6


def test_a_late_alarm_earns_less_and_spares_the_miss():
    # hour 13 = 3 h before onset: alarm (3 - -3) / 9 = 2/3 instead of a miss of -2/3
    assert patient_utility(SEPTIC, alarms_at(13)) == pytest.approx(-10.0 + 2 / 3 + 2 / 3)


def test_hours_later_than_three_after_onset_do_not_count():
    longer = np.array([0] * 10 + [1] * 15)
    assert patient_utility(longer, alarms_at(22, 24, n=25)) == pytest.approx(-10.0)


def test_best_alarms_earn_seven_and_a_half_and_normalise_to_one():
    best = alarms_at(*range(4, 20))
    assert patient_utility(SEPTIC, best) == pytest.approx(3.5 + 4.0)
    starts = np.zeros(20, dtype=int)
    assert utility_score(SEPTIC, best, starts).normalised == pytest.approx(1.0)
    assert utility_score(SEPTIC, alarms_at(), starts).normalised == pytest.approx(0.0)
    assert utility_score(SEPTIC, alarms_at(10), starts).normalised == pytest.approx(1.0 / 17.5)


def test_many_patients_sum_as_each_alone():
    rng = np.random.default_rng(7)
    labels, alarms, starts, total = [], [], [], 0.0
    for _ in range(200):
        n = int(rng.integers(1, 60))
        y = np.zeros(n, dtype=int)
        if rng.random() < 0.3:
            y[int(rng.integers(0, n)) :] = 1
        p = (rng.random(n) < 0.3).astype(int)
        total += patient_utility(y, p)
        starts += [sum(len(x) for x in labels)] * n
        labels.append(y)
        alarms.append(p)
    score = utility_score(np.concatenate(labels), np.concatenate(alarms), np.array(starts))
    assert score.observed == pytest.approx(total)


def test_sepsis_labelled_from_the_first_hour_rewards_from_the_start():
    y = np.ones(8, dtype=int)  # onset at hour 6: the first hour is already the optimal one
    u = row_utilities(y, np.zeros(8, dtype=int))
    assert u.if_alarm[0] == pytest.approx(1.0)
    assert u.best.all()
