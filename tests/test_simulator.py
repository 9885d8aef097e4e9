"""The synthetic-patient simulator: deterministic signals, numerics that agree with them, scenarios that
do what their names say, and a live source that behaves like a device on the station clock."""

from __future__ import annotations

import math
import threading
import time
from itertools import pairwise

import numpy as np
import pytest
from scipy.signal import find_peaks
from wardwatch.app.clock import ScaledClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import (
    DeviceStatus,
    LinkState,
    Observation,
    TechnicalEvent,
    TechnicalKind,
    Validity,
    WaveformBlock,
)
from wardwatch.app.hub import StreamHub
from wardwatch.app.sources import SourceContext
from wardwatch.app.sources import make_source as make_any_source
from wardwatch.devices.base import SourceError
from wardwatch.devices.simulator import SCENARIOS, SimulatedPatient, default_mix, make_source
from wardwatch.devices.simulator.ecg import LEAD_II_TEMPLATES, render_beats_exact
from wardwatch.devices.simulator.timeline import Condition

ECG = MdcCode.ECG_ELEC_POTL_II
PLETH = MdcCode.PULS_OXIM_PLETH
RESP = MdcCode.RESP
RATES = {ECG: 250.0, PLETH: 125.0, RESP: 62.5}
T0 = 1_800_000_000.0


def signal(patient: SimulatedPatient, code: MdcCode, seconds: float, start_s: float = 0.0) -> np.ndarray:
    rate = RATES[code]
    return patient.samples(code, round(start_s * rate), round(seconds * rate))


def times_of(code: MdcCode, n: int, start_s: float = 0.0) -> np.ndarray:
    rate = RATES[code]
    return (round(start_s * rate) + np.arange(n)) / rate


def in_windows(times: np.ndarray, windows: list[tuple[float, float]]) -> np.ndarray:
    mask = np.zeros(len(times), bool)
    for a, b in windows:
        mask |= (times >= a) & (times < b)
    return mask


def r_peaks(ecg: np.ndarray) -> np.ndarray:
    """R-peak times (s) found in the drawn ECG, independently of the simulator's beat schedule."""
    peaks, _ = find_peaks(np.nan_to_num(ecg), height=0.55, distance=int(0.25 * 250))
    return peaks / 250.0


# ---- a clock and a sink for driving the live source without wall time ---------------------------------
class SteppingClock:
    """Station clock that advances only when the source waits, and stops the source at `end`."""

    speed = 1.0

    def __init__(self, end_s: float) -> None:
        self.t = T0
        self.end = T0 + end_s

    def now(self) -> float:
        return self.t

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        self.t += seconds
        if self.t >= self.end:
            stop.set()
        return stop.is_set()


class SuspendingClock(SteppingClock):
    """A station that is suspended for `pause_s` once it reaches `at_s`."""

    def __init__(self, end_s: float, at_s: float, pause_s: float) -> None:
        super().__init__(end_s)
        self.at = T0 + at_s
        self.pause = pause_s

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        if self.t + seconds >= self.at and self.pause:
            self.t += self.pause
            self.pause = 0.0
        return super().wait(seconds, stop)


class RecordingSink:
    def __init__(self, clock: SteppingClock) -> None:
        self.clock = clock
        self.blocks: list[WaveformBlock] = []
        self.observations: list[Observation] = []
        self.events: list[TechnicalEvent] = []
        self.statuses: list[tuple[float, DeviceStatus]] = []
        self.pushed_at: list[float] = []

    def push_block(self, block: WaveformBlock) -> None:
        self.blocks.append(block)
        self.pushed_at.append(self.clock.now())

    def push_observation(self, obs: Observation) -> None:
        self.observations.append(obs)

    def push_event(self, event: TechnicalEvent) -> None:
        self.events.append(event)

    def set_status(self, bed: str, status: DeviceStatus) -> None:
        self.statuses.append((self.clock.now(), status))

    def of(self, code: MdcCode) -> list[Observation]:
        return [o for o in self.observations if o.code == code]


def run_source(
    scenario: str, seconds: float, clock: SteppingClock | None = None, **options: object
) -> tuple[RecordingSink, SimulatedPatient]:
    clock = clock or SteppingClock(seconds)
    sink = RecordingSink(clock)
    source = make_source(scenario, "bed-1", SourceContext(clock, seed=3, bed_index=5, options=dict(options)))
    source.start(sink)
    deadline = time.monotonic() + 30.0
    while clock.t < clock.end and time.monotonic() < deadline:
        time.sleep(0.005)
    source.stop()
    assert clock.t >= clock.end, "the source did not run to the end"
    return sink, source.patient  # type: ignore[attr-defined]


# ---- determinism ---------------------------------------------------------------------------------
def test_same_seed_gives_identical_samples_however_the_signal_is_split_into_blocks() -> None:
    whole = SimulatedPatient("vt", seed=11, bed_index=4)
    pieces = SimulatedPatient("vt", seed=11, bed_index=4)
    rng = np.random.default_rng(0)
    for code in (RESP, ECG, PLETH):  # a different channel order from the reference below
        n_total = round(70 * RATES[code])
        parts, pos = [], 0
        while pos < n_total:
            n = int(min(rng.integers(1, 700), n_total - pos))
            parts.append(pieces.samples(code, pos, n))
            pos += n
        reference = SimulatedPatient("vt", seed=11, bed_index=4).samples(code, 0, n_total)
        np.testing.assert_array_equal(np.concatenate(parts), reference)
        np.testing.assert_array_equal(whole.samples(code, 0, n_total), reference)
    assert [pieces.readings(float(s)) for s in range(0, 70, 7)] == [
        whole.readings(float(s)) for s in range(0, 70, 7)
    ]


def test_asking_for_the_past_again_gives_the_same_samples() -> None:
    patient = SimulatedPatient("af", seed=2, bed_index=1)
    early = patient.samples(ECG, 1000, 500)
    patient.samples(ECG, 250 * 900, 500)  # far ahead: old chunks and beats are forgotten
    np.testing.assert_array_equal(patient.samples(ECG, 1000, 500), early)


def test_different_seeds_and_beds_give_different_patients() -> None:
    a = signal(SimulatedPatient("stable", seed=1, bed_index=0), ECG, 10)
    b = signal(SimulatedPatient("stable", seed=2, bed_index=0), ECG, 10)
    c = signal(SimulatedPatient("stable", seed=1, bed_index=1), ECG, 10)
    assert not np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_tabulated_beats_match_the_wave_by_wave_ecg_within_a_few_microvolts() -> None:
    patient = SimulatedPatient("vt", seed=6, bed_index=2)  # sinus beats, PVCs and VT complexes
    worst = 0.0
    for start in np.arange(0.0, 120.0, 4.0):
        times = start + np.arange(1000) / 250.0
        beats = patient.beats(start - 0.8, start + 4.4)
        exact = render_beats_exact(times, beats)
        worst = max(worst, float(np.abs(LEAD_II_TEMPLATES.render(start, 1000, beats) - exact).max()))
    assert worst < 0.03  # mV, against an R wave of about 1.1 mV


# ---- the numerics agree with the waveform -----------------------------------------------------------
@pytest.mark.parametrize(
    ("scenario", "start_s", "expected"),
    [("stable", 10.0, (55, 95)), ("brady", 160.0, (37, 46)), ("tachy", 160.0, (134, 161))],
)
def test_heart_rate_numeric_matches_the_r_peaks_drawn_in_the_ecg(
    scenario: str, start_s: float, expected: tuple[int, int]
) -> None:
    patient = SimulatedPatient(scenario, seed=5, bed_index=3)
    peaks = r_peaks(signal(patient, ECG, start_s + 60.0))
    for t in np.arange(start_s, start_s + 60.0, 3.0):
        recent = peaks[(peaks > t - 12.0) & (peaks <= t)]
        from_peaks = 60.0 / np.mean(np.diff(recent)[-8:])
        hr = patient.readings(float(t))[0]
        assert hr.code == MdcCode.ECG_HEART_RATE and hr.validity == Validity.VALID
        assert abs(hr.value - from_peaks) <= 3.0, (t, hr.value, from_peaks)
        assert expected[0] <= hr.value <= expected[1]


def test_pulse_rate_follows_the_pleth_pulses_a_pulse_transit_time_after_each_r_peak() -> None:
    patient = SimulatedPatient("stable", seed=8, bed_index=2)
    ecg_peaks = r_peaks(signal(patient, ECG, 30.0))
    pleth = signal(patient, PLETH, 30.0)
    pulse_peaks = find_peaks(pleth, prominence=0.3, distance=int(0.3 * 125))[0] / 125.0
    delays = [pulse_peaks[pulse_peaks > r][0] - r for r in ecg_peaks[1:-2]]
    assert 0.25 < np.median(delays) < 0.45  # foot ~0.2 s after R, systolic peak ~0.14 s later
    pr = patient.readings(25.0)[2]
    assert pr.code == MdcCode.PULS_OXIM_PULS_RATE
    assert abs(pr.value - 60.0 / np.mean(np.diff(pulse_peaks[pulse_peaks <= 25.0])[-8:])) <= 3.0


# ---- scenarios ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_streams_without_gaps_except_where_the_scenario_means_them(scenario: str) -> None:
    patient = SimulatedPatient(scenario, seed=1, bed_index=7)
    seconds = 200.0  # long enough to include each scenario's first episode whatever its stagger
    lead_off = patient.timeline.windows(0.0, seconds, Condition.LEAD_OFF)
    sensor_off = patient.timeline.windows(0.0, seconds, Condition.SENSOR_OFF)
    for code, off in ((ECG, lead_off), (PLETH, sensor_off), (RESP, lead_off)):
        x = signal(patient, code, seconds)
        blank = in_windows(times_of(code, len(x)), off)
        np.testing.assert_array_equal(np.isnan(x), blank)
        assert np.all(np.abs(x[~blank]) < 5.0)
    assert (scenario == "lead_off") == bool(lead_off)
    assert (scenario == "sensor_off") == bool(sensor_off)
    for s in range(0, int(seconds)):
        for reading in patient.readings(float(s)):
            assert math.isfinite(reading.value) == (reading.validity != Validity.INVALID)


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "stable"])
def test_episodes_start_only_after_a_stretch_of_normal_rhythm(scenario: str) -> None:
    for bed in range(8):
        patient = SimulatedPatient(scenario, seed=4, bed_index=bed)
        first = patient.timeline.at(0.0)
        assert first.end >= 20.0
        assert first.phase.rhythm.value == "sinus"
        assert patient.technical_state(19.9) == frozenset()


def test_episodes_are_staggered_between_beds() -> None:
    onsets = {round(SimulatedPatient("vt", seed=4, bed_index=bed).lead_in_s, 1) for bed in range(6)}
    assert len(onsets) == 6


def test_lead_off_leaves_the_heart_rate_and_respiration_invalid_not_faked() -> None:
    patient = SimulatedPatient("lead_off", seed=1, bed_index=7)
    (start, end), *_ = patient.timeline.windows(0.0, 300.0, Condition.LEAD_OFF)
    hr, _spo2, _pr, rr, _temp = patient.readings(start + 2.0)
    assert hr.validity == Validity.INVALID and math.isnan(hr.value)
    assert rr.validity == Validity.INVALID
    assert patient.readings(end + 15.0)[0].validity == Validity.VALID


def test_sensor_off_leaves_spo2_and_pulse_rate_invalid_until_the_oximeter_has_settled() -> None:
    patient = SimulatedPatient("sensor_off", seed=1, bed_index=7)
    (start, end), *_ = patient.timeline.windows(0.0, 300.0, Condition.SENSOR_OFF)
    for t in (start + 1.0, end + 2.0):
        _hr, spo2, pr, _rr, _temp = patient.readings(t)
        assert spo2.validity == pr.validity == Validity.INVALID
    assert patient.readings(start + 1.0)[0].validity == Validity.VALID  # the ECG is unaffected
    assert patient.readings(end + 10.0)[1].validity == Validity.VALID


def test_asystole_reads_a_heart_rate_of_zero_and_loses_the_pulse() -> None:
    patient = SimulatedPatient("asystole", seed=1, bed_index=1)
    episode = next(s for s in patient.timeline.between(0.0, 400.0) if s.rhythm.value == "asystole")
    hr, spo2, pr, _rr, _temp = patient.readings(episode.start + 7.0)
    assert hr.value == 0.0 and hr.validity == Validity.VALID
    assert spo2.validity == pr.validity == Validity.INVALID
    ecg = signal(patient, ECG, 4.0, start_s=episode.start + 1.0)
    assert np.ptp(ecg) < 0.3  # a flat line with a little noise


def test_vt_runs_are_fast_wide_complexes_with_weak_pulses() -> None:
    patient = SimulatedPatient("vt", seed=1, bed_index=1)
    run = next(s for s in patient.timeline.between(0.0, 400.0) if s.rhythm.value == "vt")
    assert 150 <= patient.readings(run.start + 10.0)[0].value <= 190
    ecg = signal(patient, ECG, 6.0, start_s=run.start + 5.0)
    peaks = find_peaks(ecg, height=0.6, distance=50)[0]
    widths = [np.sum(ecg[p - 40 : p + 40] > 0.5 * ecg[p]) / 250.0 for p in peaks[1:-1]]
    assert np.median(widths) > 0.05  # a sinus R wave is above half height for ~20 ms
    pleth_vt = signal(patient, PLETH, 6.0, start_s=run.start + 5.0)
    pleth_sinus = signal(patient, PLETH, 6.0, start_s=run.start - 8.0)
    assert np.ptp(pleth_vt) < 0.6 * np.ptp(pleth_sinus)


def test_vf_is_a_chaotic_four_to_seven_hertz_oscillation_without_a_pulse() -> None:
    patient = SimulatedPatient("vf", seed=1, bed_index=1)
    episode = next(s for s in patient.timeline.between(0.0, 400.0) if s.rhythm.value == "vf")
    ecg = signal(patient, ECG, 8.0, start_s=episode.start + 1.0)
    spectrum = np.abs(np.fft.rfft(ecg - ecg.mean()))
    freqs = np.fft.rfftfreq(len(ecg), 1 / 250.0)
    assert 4.0 <= freqs[np.argmax(spectrum)] <= 7.0
    assert np.ptp(signal(patient, PLETH, 5.0, start_s=episode.start + 2.0)) < 0.1
    hr, spo2, *_ = patient.readings(episode.start + 8.0)
    assert hr.validity == spo2.validity == Validity.INVALID


def test_af_is_irregularly_irregular_and_sinus_is_not() -> None:
    patient = SimulatedPatient("af", seed=1, bed_index=1)
    start = patient.timeline.at(0.0).end
    sinus_rr = np.diff(r_peaks(signal(patient, ECG, 15.0, start_s=start - 16.0)))
    af_rr = np.diff(r_peaks(signal(patient, ECG, 30.0, start_s=start + 5.0)))
    assert np.std(sinus_rr) / np.mean(sinus_rr) < 0.06
    assert np.std(af_rr) / np.mean(af_rr) > 0.12
    assert 95 <= 60.0 / np.mean(af_rr) <= 125


def test_desaturation_dips_to_the_low_eighties_and_recovers() -> None:
    patient = SimulatedPatient("desaturation", seed=1, bed_index=1)
    episode = next(s for s in patient.timeline.between(0.0, 400.0) if s.phase.spo2 is not None)
    before = patient.readings(episode.start - 1.0)[1].value
    during = [patient.readings(t)[1].value for t in np.arange(episode.start, episode.end + 5.0)]
    after = patient.readings(episode.end + 45.0)[1].value
    assert before >= 94 and after >= 94
    assert 80 <= min(during) <= 84
    assert sum(v <= 86 for v in during) >= 20  # tens of seconds


def test_motion_artefact_swamps_the_ecg_while_the_true_heart_rate_holds() -> None:
    patient = SimulatedPatient("motion", seed=1, bed_index=1)
    burst = next(s for s in patient.timeline.between(0.0, 400.0) if s.phase.motion)
    quiet = signal(patient, ECG, 6.0, start_s=burst.start - 8.0)
    moving = signal(patient, ECG, 6.0, start_s=burst.start + 3.0)
    assert np.std(moving) > 2.0 * np.std(quiet)
    before = patient.readings(burst.start - 2.0)[0].value
    during = patient.readings(burst.start + 8.0)[0]
    assert abs(during.value - before) <= 5 and during.validity == Validity.VALID


def test_deterioration_drifts_towards_sepsis_over_about_two_hours() -> None:
    patient = SimulatedPatient("deterioration", seed=1, bed_index=1, time_scale=60.0)
    hr, spo2, _pr, rr, temp = patient.readings(200.0)  # two hours compressed into two minutes
    assert 115 <= hr.value <= 135
    assert 87 <= spo2.value <= 91
    assert 25 <= rr.value <= 31
    assert 38.6 <= temp.value <= 39.2
    assert patient.nibp(200.0)[0].value < 100
    start = patient.readings(5.0)
    assert 75 <= start[0].value <= 88 and start[1].value >= 95


# ---- the make_source entry point ------------------------------------------------------------------------
def test_unknown_scenario_is_refused_with_the_valid_names() -> None:
    with pytest.raises(SourceError) as info:
        make_source("sepsis", "bed-1", SourceContext(ScaledClock()))
    for name in SCENARIOS:
        assert name in str(info.value)


def test_bad_option_is_refused_with_a_clear_message() -> None:
    with pytest.raises(SourceError, match="nibp_interval_s"):
        make_source("stable", "bed-1", SourceContext(ScaledClock(), options={"nibp_interval_s": "often"}))


def test_default_mix_is_mostly_ordinary_patients_with_one_bed_of_each_showcase_scenario() -> None:
    mix = default_mix(16)
    assert mix == default_mix(16) and len(mix) == 16
    ordinary = ("stable", "restless")
    assert sum(m in ordinary for m in mix) > 8 and "restless" in mix
    unusual = [m for m in mix if m not in ordinary]
    assert len(unusual) == len(set(unusual)) >= 6
    assert set(mix) <= set(SCENARIOS)
    assert set(default_mix(40)) == set(SCENARIOS)
    assert default_mix(0) == [] and default_mix(1) == ["stable"]


# ---- the live source -----------------------------------------------------------------------------------
def test_source_stamps_contiguous_blocks_never_from_the_future() -> None:
    sink, _ = run_source("stable", 30.0)
    for code, rate in RATES.items():
        blocks = [b for b in sink.blocks if b.code == code]
        assert blocks and all(b.rate == rate and b.samples.dtype == np.float32 for b in blocks)
        assert blocks[0].t0 == T0
        for prev, nxt in pairwise(blocks):
            assert nxt.t0 == pytest.approx(prev.t_end + 1.0 / rate, abs=1e-6)
        assert sum(len(b.samples) for b in blocks) >= 29 * rate
    assert all(b.t_end <= at + 1e-6 for b, at in zip(sink.blocks, sink.pushed_at, strict=True))
    assert [b.unit for b in sink.blocks[:3]] == ["mV", "1", "1"]


def test_source_samples_equal_the_pure_generator() -> None:
    sink, _ = run_source("af", 20.0)
    ecg = np.concatenate([b.samples for b in sink.blocks if b.code == ECG])
    np.testing.assert_array_equal(ecg, SimulatedPatient("af", seed=3, bed_index=5).samples(ECG, 0, len(ecg)))


def test_numerics_arrive_every_second_with_ucum_units() -> None:
    sink, _ = run_source("stable", 12.0)
    units = {
        MdcCode.ECG_HEART_RATE: "/min",
        MdcCode.PULS_OXIM_SAT_O2: "%",
        MdcCode.PULS_OXIM_PULS_RATE: "/min",
        MdcCode.RESP_RATE: "/min",
        MdcCode.TEMP_BODY: "Cel",
    }
    for code, unit in units.items():
        series = sink.of(code)
        assert [o.time - T0 for o in series] == [float(s) for s in range(len(series))]
        assert len(series) >= 12 and {o.unit for o in series} == {unit}
        assert all(o.validity == Validity.VALID and o.bed == "bed-1" for o in series)


def test_nibp_arrives_at_start_and_again_after_the_interval() -> None:
    sink, _ = run_source("stable", 130.0, nibp_interval_s=60)
    for code in (MdcCode.PRESS_BLD_NONINV_SYS, MdcCode.PRESS_BLD_NONINV_DIA, MdcCode.PRESS_BLD_NONINV_MEAN):
        assert [o.time - T0 for o in sink.of(code)] == [0.0, 60.0, 120.0]
        assert {o.unit for o in sink.of(code)} == {"mm[Hg]"}
    first = {o.code: o.value for o in sink.observations if o.time == T0}
    assert (
        first[MdcCode.PRESS_BLD_NONINV_DIA]
        < first[MdcCode.PRESS_BLD_NONINV_MEAN]
        < first[MdcCode.PRESS_BLD_NONINV_SYS]
    )


def test_lead_off_blanks_the_ecg_and_reports_lead_off_then_leads_on() -> None:
    sink, patient = run_source("lead_off", 200.0)
    (start, end), *_ = patient.timeline.windows(0.0, 200.0, Condition.LEAD_OFF)
    lead_events = [e for e in sink.events if e.kind == TechnicalKind.LEAD_OFF]
    assert [(e.active, e.time - T0) for e in lead_events[:2]] == [
        (True, pytest.approx(start)),
        (False, pytest.approx(end)),
    ]
    assert lead_events[0].code == ECG
    ecg = np.concatenate([b.samples for b in sink.blocks if b.code == ECG])
    t = np.arange(len(ecg)) / 250.0
    assert np.all(np.isnan(ecg[(t >= start + 0.01) & (t < end - 0.01)]))
    assert not np.any(np.isnan(ecg[t < start - 0.01]))
    hr_during = [o for o in sink.of(MdcCode.ECG_HEART_RATE) if start + 1 < o.time - T0 < end - 1]
    assert hr_during and all(o.validity == Validity.INVALID for o in hr_during)


def test_sensor_off_reports_sensor_off_then_on_and_blanks_the_pleth() -> None:
    sink, patient = run_source("sensor_off", 200.0)
    (start, end), *_ = patient.timeline.windows(0.0, 200.0, Condition.SENSOR_OFF)
    events = [(e.active, e.time - T0) for e in sink.events if e.kind == TechnicalKind.SENSOR_OFF]
    assert events[:2] == [(True, pytest.approx(start)), (False, pytest.approx(end))]
    spo2_during = [o for o in sink.of(MdcCode.PULS_OXIM_SAT_O2) if start < o.time - T0 < end]
    assert spo2_during and all(o.validity == Validity.INVALID for o in spo2_during)


def test_disconnect_sends_nothing_then_resumes_at_the_current_time() -> None:
    sink, patient = run_source("disconnect", 200.0)
    windows = patient.timeline.windows(0.0, 200.0, Condition.DISCONNECTED)
    (start, end) = windows[0]
    assert end - start > 10.0
    data_times = [o.time - T0 for o in sink.observations]
    data_times += [t - T0 for b in sink.blocks for t in (b.t0, b.t_end)]
    for a, b in windows:
        assert not [t for t in data_times if a + 1e-6 < t < b - 1e-6]
    ecg = [b for b in sink.blocks if b.code == ECG]
    gap = [(a, b) for a, b in pairwise(ecg) if b.t0 - a.t_end > 1.0]
    assert len(gap) == len([w for w in windows if w[1] < 199.0])
    assert gap[0][0].t_end - T0 < start and gap[0][1].t0 - T0 >= end - 1e-6
    states = [(t - T0, s.state) for t, s in sink.statuses]
    assert any(s == LinkState.DISCONNECTED and start <= t < end + 0.2 for t, s in states)
    assert states[-1][1] in (LinkState.CONNECTED, LinkState.STOPPED)
    assert LinkState.CONNECTED in [s for t, s in states if t > end]


def test_a_suspended_station_resumes_with_a_gap_not_an_hour_of_backlog() -> None:
    clock = SuspendingClock(end_s=3630.0, at_s=10.0, pause_s=3600.0)
    sink, _ = run_source("stable", 3630.0, clock=clock)
    ecg = [b for b in sink.blocks if b.code == ECG]
    assert sum(len(b.samples) for b in ecg) < 250 * 60
    assert ecg[-1].t_end > T0 + 3620.0
    assert len(sink.of(MdcCode.ECG_HEART_RATE)) < 60


def test_low_battery_drains_in_the_status_and_warns_below_twenty_percent() -> None:
    sink, patient = run_source("low_battery", 150.0)
    levels = [s.battery_percent for _, s in sink.statuses if s.battery_percent is not None]
    assert levels[0] > 20.0 and levels[-1] < 20.0
    assert all(b <= a for a, b in pairwise(levels))
    events = [e for e in sink.events if e.kind == TechnicalKind.LOW_BATTERY]
    assert [e.active for e in events] == [True]
    assert events[0].time - T0 == pytest.approx(patient.lead_in_s)


def test_threaded_source_fills_the_hub_on_a_fast_clock() -> None:
    hub = StreamHub()
    clock = ScaledClock(speed=20.0)
    source = make_any_source("sim:stable", "bed-9", SourceContext(clock, seed=1, bed_index=9))
    source.start(hub)
    try:
        deadline = time.monotonic() + 15.0
        wanted = {ECG: 250 * 6, PLETH: 125 * 6, RESP: 62 * 6}
        while time.monotonic() < deadline:
            streams = hub.streams("bed-9")
            if (
                streams is not None
                and all(c in streams.waves and streams.waves[c].ring.count >= n for c, n in wanted.items())
                and hub.latest("bed-9", MdcCode.ECG_HEART_RATE) is not None
                and hub.latest("bed-9", MdcCode.PRESS_BLD_NONINV_SYS) is not None
            ):
                break
            time.sleep(0.02)
        else:
            pytest.fail("the hub was not filled in time")
        assert source.status.state == LinkState.CONNECTED and source.status.kind == "sim"
        ring = hub.streams("bed-9").waves[ECG].ring  # type: ignore[union-attr]
        newest = ring.latest(250)
        assert np.all(np.diff(newest.times) > 0) and newest.times[-1] <= clock.now()
        assert 40 < hub.latest("bed-9", MdcCode.ECG_HEART_RATE).value < 120  # type: ignore[union-attr]
    finally:
        source.stop()
    assert source.status.state == LinkState.STOPPED


def test_a_long_live_run_never_redraws_beats_or_breaths_from_the_start(monkeypatch):
    """Trimming old beats and breaths must keep every look-back the live source makes (RR looks 60 s
    behind); otherwise each pass regenerates the whole session and CPU and memory creep with uptime."""
    from wardwatch.devices.simulator.resp import BreathTrain
    from wardwatch.devices.simulator.rhythm import BeatTrain

    resets = {"breaths": 0, "beats": 0}
    for cls, key in ((BreathTrain, "breaths"), (BeatTrain, "beats")):
        original = cls._reset

        def counted(self, original=original, key=key):
            resets[key] += 1
            return original(self)

        monkeypatch.setattr(cls, "_reset", counted)
    patient = SimulatedPatient("stable", seed=3, bed_index=1)
    assert resets == {"breaths": 1, "beats": 1}
    for second in range(20 * 60):  # as the live source asks: a second of waves, then the numerics
        for code, rate in (
            (MdcCode.ECG_ELEC_POTL_II, 250),
            (MdcCode.PULS_OXIM_PLETH, 125),
            (MdcCode.RESP, 62.5),
        ):
            patient.samples(code, int(second * rate), int(rate))
        patient.readings(float(second))
    assert resets == {"breaths": 1, "beats": 1}
