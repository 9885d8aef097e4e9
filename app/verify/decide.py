"""Screening for arrhythmias on the ECG, and verifying an arrhythmia alarm on every other signal.

Verification follows the common ground of the 2015 PhysioNet/CinC Challenge's best entries
(ALARMS.md §2): an alarm is held back only on *positive* evidence that it is false — a clean
pulsatile channel (arterial pressure, pleth) beating regularly at a rate that contradicts it, or two
ECG leads agreeing on a normal rhythm. Missing, flat or noisy signals never suppress an alarm, and
any error lets it through. Margins are looser than the alarm definitions (45/min for a "< 40"
bradycardia, 120/min for a "> 140" tachycardia), physiology-grounded, not fitted to the records.

Each alarm type's rules live in a module of its own (`asystole.py`, `bradycardia.py`, `tachycardia.py`,
`vt.py`, `vf.py`), over the witnesses gathered once for all of them (`witnesses.py`) and the patient's
usual beat (`usual_beats.py`); the screening is `screening.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import numpy.typing as npt
from wardwatch.app.verify import asystole, bradycardia, tachycardia, vf, vt
from wardwatch.app.verify.alarm_types import ArrhythmiaType, Verdict
from wardwatch.app.verify.screening import screen
from wardwatch.app.verify.witnesses import Witnesses, gather, sounded

log = logging.getLogger(__name__)

_RULES: Mapping[ArrhythmiaType, Callable[[Witnesses], Verdict]] = {
    ArrhythmiaType.ASYSTOLE: asystole.verify,
    ArrhythmiaType.BRADYCARDIA: bradycardia.verify,
    ArrhythmiaType.TACHYCARDIA: tachycardia.verify,
    ArrhythmiaType.VENTRICULAR_TACHYCARDIA: vt.verify,
    ArrhythmiaType.VENTRICULAR_FLUTTER_FIB: vf.verify,
}


def verify_alarm(alarm_type: ArrhythmiaType, signals: Mapping[str, npt.ArrayLike], fs: float) -> Verdict:
    """Whether an arrhythmia alarm is true (sound it) or provably false (hold it back, with why)."""
    try:
        return _verify(ArrhythmiaType(alarm_type), signals, fs)
    except Exception as exc:  # never suppress on an error
        log.warning("verification of %s failed: %s", alarm_type, exc)
        return Verdict(ArrhythmiaType(alarm_type), True, f"not verified ({type(exc).__name__}): sounded")


def _verify(kind: ArrhythmiaType, signals: Mapping[str, npt.ArrayLike], fs: float) -> Verdict:
    witnesses = gather(kind, signals, fs)
    rules = _RULES.get(kind)
    return rules(witnesses) if rules is not None else sounded(witnesses)


def detect_arrhythmias(signals: Mapping[str, npt.ArrayLike], fs: float) -> list[ArrhythmiaType]:
    """The bedside screening on the ECG (sensitive, as a monitor's is); `verify_alarm` then checks
    each candidate against the other signals."""
    try:
        return screen(signals, fs)
    except Exception as exc:
        log.warning("arrhythmia screening failed: %s", exc)
        raise
