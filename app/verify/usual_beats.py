"""The patient's usual beat as a witness: their usual QRS and usual pulse wave, learned from the window's
start and looked for in its last seconds (`waves.py`, `runs.py`, `pulses.py`).

An arrhythmia replaces the usual beat: a standstill or a fibrillation leaves no QRS and ejects nothing, a
ventricular run puts other complexes in its place. So the usual beat recurring through the last seconds,
often enough to leave no room for the arrhythmia, says it did not happen — on two or more leads with a
trustworthy template (one lead can be fooled), or on one lead only where its usual complex is a narrow one
(a broad usual beat may be a ventricular rhythm already under way).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt
from wardwatch.app.verify.alarm_types import ArrhythmiaType, Verdict
from wardwatch.app.verify.pulses import usual_pulse_gap
from wardwatch.app.verify.runs import UsualComplex, longest_absence, usual_complex
from wardwatch.app.verify.waves import Beats, Stretch, ecg_wave, usual_beat_gap
from wardwatch.app.verify.witnesses import EVENT_S, Witnesses, sounded

# QRS width as `waves._qrs_width` measures it (above 30 % of the peak): ~0.03 s for a sharp narrow
# complex, ~0.1 s for a broad ventricular one.
VT_WIDE_S = 0.07
# The patient's usual QRS (learned before the last BASELINE_END_S) searched for in the last RECENT_S.
BASELINE_END_S = 16.0
RECENT_S = 12.0
# Five ventricular beats at up to 200/min between two usual ones span six intervals, at least 1.8 s:
# usual complexes never further apart than this on every lead leave no room for such a run.
VT_USUAL_GAP_S = 1.5
# The usual complex never recurring sooner than this (100/min) leaves no beat of a VT on the lead either.
VT_USUAL_MIN_INTERVAL_S = 0.6
# Asystole and VF both need at least 4 s without a normal complex.
STANDSTILL_USUAL_GAP_S = 3.0
# Nor does a standstill or a fibrillation leave a pulse: the patient's usual pulse wave recurring at least
# this often through the last 10 s rules out 4 s without a beat (the same limit as for a clean pulse's
# gaps; true asystoles here leave the usual pulse absent 3.4 s or more).
STANDSTILL_PULSE_GAP_S = 2.5

_SHORT_NAMES: Mapping[ArrhythmiaType, str] = {
    ArrhythmiaType.VENTRICULAR_TACHYCARDIA: "VT",
    ArrhythmiaType.VENTRICULAR_FLUTTER_FIB: "VF",
}
_USUAL_BEAT_LIMITS: Mapping[ArrhythmiaType, float] = {
    ArrhythmiaType.VENTRICULAR_TACHYCARDIA: VT_USUAL_GAP_S,
    ArrhythmiaType.ASYSTOLE: STANDSTILL_USUAL_GAP_S,
    ArrhythmiaType.VENTRICULAR_FLUTTER_FIB: STANDSTILL_USUAL_GAP_S,
}


def usual_beat_gaps(ecg: list[Beats], signals: Mapping[str, npt.ArrayLike], fs: float) -> dict[str, Stretch]:
    gaps: dict[str, Stretch] = {}
    for beats in ecg:
        gap = usual_beat_gap(beats, signals[beats.name], fs, RECENT_S, BASELINE_END_S)
        if gap is not None:
            gaps[beats.name] = gap
    return gaps


def usual_qrs_verdict(w: Witnesses, usual: Mapping[str, Stretch]) -> Verdict | None:
    """The alarm held back when the usual QRS recurs on two or more leads at least as often as the alarm
    type leaves room for (an asystole, a VT or a VF)."""
    # only two or more leads with a trustworthy template may say no (one lead can be fooled)
    if len(usual) >= 2:
        w.evidence["usual QRS longest gap s"] = round(longest(usual).length, 2)
        if longest(usual).length <= _USUAL_BEAT_LIMITS[w.kind]:
            name = _SHORT_NAMES.get(w.kind, w.label)
            return Verdict(w.kind, False, f"{name} not confirmed: {usual_beats_text(usual)}", w.evidence)
    return None


def longest(gaps: Mapping[str, Stretch]) -> Stretch:
    return max(gaps.values(), key=lambda s: s.length)


def usual_beats_text(gaps: Mapping[str, Stretch]) -> str:
    leads = " and ".join(gaps)
    return f"the patient's usual QRS recurs at least every {longest(gaps).length:.1f} s on leads {leads}"


def narrow_usual(lead: Beats, signals: Mapping[str, npt.ArrayLike], fs: float) -> UsualComplex | None:
    """The lead's usual complex when it is a narrow one: a broad usual beat may be a ventricular rhythm
    already under way, no witness against VT."""
    baseline = lead.widths[lead.times < lead.duration - BASELINE_END_S]
    if not len(baseline) or float(np.median(baseline)) >= VT_WIDE_S:
        return None
    return usual_complex(lead, ecg_wave(signals[lead.name], fs), fs)


def calm_lead(
    ecg: list[Beats],
    signals: Mapping[str, npt.ArrayLike],
    fs: float,
    max_absence: float = VT_USUAL_GAP_S,
    min_interval: float = VT_USUAL_MIN_INTERVAL_S,
) -> tuple[str, float] | None:
    """(lead, longest absence of its usual complex) for a lead whose usual narrow complex recurs through the
    last RECENT_S never more than `max_absence` apart and never closer than `min_interval`: VT beats
    resembling the usual one on this lead would come closer, unlike it they would leave a longer absence,
    and a VT shows on every lead (a fibrillation and a tachycardia alike)."""
    for lead in ecg:
        if lead.flat or lead.missing > 0.05 or (usual := narrow_usual(lead, signals, fs)) is None:
            continue
        since = lead.duration - RECENT_S
        times = usual.times[usual.times >= since]
        absence = longest_absence(usual, since, lead.duration)
        if len(times) >= 2 and absence <= max_absence and float(np.diff(times).min()) >= min_interval:
            return lead.name, absence
    return None


def usual_pulse(
    pulses: list[Beats], signals: Mapping[str, npt.ArrayLike], fs: float
) -> tuple[str, float] | None:
    """(channel, longest absence of its usual pulse over the last EVENT_S) for the first pulse channel
    whose usual pulse recurs at least every STANDSTILL_PULSE_GAP_S."""
    for beats in pulses:
        gap = usual_pulse_gap(beats, signals[beats.name], fs, EVENT_S, BASELINE_END_S)
        if gap is not None and gap.length <= STANDSTILL_PULSE_GAP_S:
            return beats.name, gap.length
    return None


def pulse_text(found: tuple[str, float]) -> str:
    name, gap = found
    return f"{name} shows the patient's usual pulse wave at least every {gap:.1f} s (the heart is ejecting)"


def verify_then_usual_qrs(w: Witnesses, held_back: Callable[[Witnesses], Verdict | None]) -> Verdict:
    """An alarm type's own witnesses first, then the patient's usual QRS; it sounds if neither holds it."""
    usual = usual_beat_gaps(w.ecg, w.signals, w.fs)
    if (held := held_back(w)) is not None:
        return held
    if (held := usual_qrs_verdict(w, usual)) is not None:
        return held
    return sounded(w)
