"""The signals an alarm is verified against, gathered once for every alarm type's rules.

Each signal becomes a witness: its beats (`waves.py`), and whether it beats cleanly over the event's
seconds. Arterial pressure comes before the pleth (it is the better witness), and ECG leads speak only
when two or more agree: one lead alone may count noise as beats. What every rule looked at is kept as
evidence, shown with the verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from wardwatch.app.verify.alarm_types import ArrhythmiaType, Verdict
from wardwatch.app.verify.waves import ECG_NAMES, PULSE_NAMES, Beats, ecg_beats, is_clean_rhythm, pulse_beats

# The alarm's onset lies in the last ~10 s before it sounds (AAMI EC13, the 2015 Challenge).
EVENT_S = 10.0


@dataclass
class Witnesses:
    """Every channel of one alarm's window, and what they show over its last EVENT_S."""

    kind: ArrhythmiaType
    signals: Mapping[str, npt.ArrayLike]
    fs: float
    ecg: list[Beats]
    pulses: list[Beats]
    duration: float
    since: float  # where the event's seconds start
    pulse: Beats | None  # the first clean pulse
    leads: list[Beats]  # clean ECG leads agreeing on the rate
    evidence: dict[str, float]

    @property
    def label(self) -> str:
        return self.kind.value.replace("_", " ")


def gather(kind: ArrhythmiaType, signals: Mapping[str, npt.ArrayLike], fs: float) -> Witnesses:
    ecg, pulses = channels(signals, fs)
    duration = max((b.duration for b in (*ecg, *pulses)), default=0.0)
    since = max(0.0, duration - EVENT_S)
    pulse = clean_pulse(pulses, since)
    leads = agreeing_ecg(ecg, since)
    evidence: dict[str, float] = {}
    for b in (*ecg, *pulses):
        evidence[f"{b.name} rate"] = round(b.after(since).rate(), 1)
        evidence[f"{b.name} missing"] = round(b.missing, 3)
    return Witnesses(kind, signals, fs, ecg, pulses, duration, since, pulse, leads, evidence)


def sounded(w: Witnesses) -> Verdict:
    """The alarm sounds: nothing held it back."""
    return Verdict(w.kind, True, f"{w.label}: no signal contradicts it", w.evidence)


def channels(signals: Mapping[str, npt.ArrayLike], fs: float) -> tuple[list[Beats], list[Beats]]:
    ecg = [ecg_beats(n, x, fs) for n, x in signals.items() if n in ECG_NAMES]
    pulses = [pulse_beats(n, signals[n], fs) for n in PULSE_NAMES if n in signals]
    return ecg, pulses


def clean_pulse(pulses: list[Beats], since: float, max_cv: float = 0.2) -> Beats | None:
    for beats in pulses:  # arterial pressure first: it is the better witness
        if is_clean_rhythm(beats, since, max_cv):
            return beats
    return None


def agreeing_ecg(ecg: list[Beats], since: float) -> list[Beats]:
    """Clean ECG leads whose rates agree within 10 % (one lead alone may count noise as beats)."""
    clean = [b for b in ecg if is_clean_rhythm(b, since, 0.25)]
    if len(clean) < 2:
        return []
    rates = [b.after(since).rate() for b in clean]
    ref = float(np.median(rates))
    agree = [b for b, r in zip(clean, rates, strict=True) if abs(r - ref) <= 0.1 * ref]
    return agree if len(agree) >= 2 else []


def rate_text(beats: Beats, since: float) -> str:
    how = "pulsatile" if beats.name in PULSE_NAMES else "regular"
    return f"{beats.name} {how} at {beats.after(since).rate():.0f}/min"
