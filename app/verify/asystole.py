"""Verification of an asystole alarm: held back by a heart still beating.

A standstill ejects nothing and leaves no QRS: every clean pulse (not the first only: an arterial line
may be flushed), two leads agreeing on a QRS every beat, one lead beating often and regularly enough, or
the patient's usual pulse wave recurring through the last seconds (`pulses.py`) holds it back, and so
does the usual QRS on two or more leads (`usual_beats.py`).
"""

from __future__ import annotations

from wardwatch.app.verify.alarm_types import Verdict
from wardwatch.app.verify.usual_beats import (
    pulse_text,
    usual_pulse,
    verify_then_usual_qrs,
)
from wardwatch.app.verify.waves import is_clean_rhythm
from wardwatch.app.verify.witnesses import Witnesses, rate_text

# One ECG lead alone may contradict an asystole when it beats this often and this regularly.
ASYSTOLE_LEAD_GAP_S = 1.5
ASYSTOLE_LEAD_CV = 0.35


def verify(w: Witnesses) -> Verdict:
    return verify_then_usual_qrs(w, _held_back)


def _held_back(w: Witnesses) -> Verdict | None:
    kind, since, leads, evidence = w.kind, w.since, w.leads, w.evidence
    # every clean pulse, not the first only: an arterial line flushed or zeroed for a few seconds is
    # still regular around the flush while the pleth beats on
    for p in w.pulses:
        if is_clean_rhythm(p, since) and p.longest_gap(since) < 2.5:
            return Verdict(kind, False, f"Asystole not confirmed: {rate_text(p, since)}", evidence)
    if leads and all(b.longest_gap(since) < 3.0 for b in leads):
        names = " and ".join(b.name for b in leads)
        return Verdict(kind, False, f"Asystole not confirmed: QRS every beat on leads {names}", evidence)
    # one lead keeping a beat at least every 1.5 s all through the last 10 s, at a rate and pace a
    # heart keeps, contradicts 4 s without a QRS (true standstills here leave gaps of 3.4 s or more)
    for b in w.ecg:
        if is_clean_rhythm(b, since, ASYSTOLE_LEAD_CV) and b.longest_gap(since) <= ASYSTOLE_LEAD_GAP_S:
            return Verdict(
                kind,
                False,
                f"Asystole not confirmed: lead {b.name} shows a QRS at least every "
                f"{b.longest_gap(since):.1f} s, {b.after(since).rate():.0f}/min",
                evidence,
            )
    if (found := usual_pulse(w.pulses, w.signals, w.fs)) is not None:
        evidence["usual pulse longest gap s"] = round(found[1], 2)
        return Verdict(kind, False, f"Asystole not confirmed: {pulse_text(found)}", evidence)
    return None
