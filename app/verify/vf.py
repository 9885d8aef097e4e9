"""Verification of a ventricular fibrillation or flutter alarm: held back by a heart still ejecting or
conducting.

Fibrillating ventricles eject nothing and show no QRS: a pulse wave beating at a perfusing rate through
the last seconds, or the patient's usual pulse wave recurring there (`pulses.py`), holds a VF back, and
so does a lead's usual narrow QRS at a calm pace or the usual QRS on two or more leads (`usual_beats.py`).
"""

from __future__ import annotations

from wardwatch.app.verify.alarm_types import Verdict
from wardwatch.app.verify.usual_beats import (
    VT_USUAL_MIN_INTERVAL_S,
    calm_lead,
    pulse_text,
    usual_pulse,
    verify_then_usual_qrs,
)
from wardwatch.app.verify.witnesses import Witnesses, rate_text

# A pulse this frequent, at a rate a heart perfuses with, contradicts VF. Above 130/min a pulse wave
# may be artefact or chest compressions (one true asystole here shows a "pleth" at 150/min).
VF_PULSE_GAP_S = 1.6
VF_PULSE_RATES = (40.0, 130.0)


def verify(w: Witnesses) -> Verdict:
    return verify_then_usual_qrs(w, _held_back)


def _held_back(w: Witnesses) -> Verdict | None:
    kind, pulse, pulses, leads, evidence = w.kind, w.pulse, w.pulses, w.leads, w.evidence
    recent = max(0.0, w.duration - 8.0)
    if pulse is not None and pulse.longest_gap(recent) < 2.5:
        return Verdict(kind, False, f"VF not confirmed: {rate_text(pulse, recent)}", evidence)
    # fibrillating ventricles eject nothing: a pulse wave peaking at least every 1.6 s through the
    # last 8 s at a perfusing rate contradicts it even when irregular (AF, ectopics)
    for b in pulses:
        fresh = b.after(recent)
        if (
            not b.flat
            and b.missing <= 0.05
            and len(fresh.times) >= 5
            and VF_PULSE_RATES[0] <= fresh.rate() <= VF_PULSE_RATES[1]
            and b.longest_gap(recent) <= VF_PULSE_GAP_S
        ):
            return Verdict(
                kind,
                False,
                f"VF not confirmed: {b.name} pulsatile at {fresh.rate():.0f}/min, "
                f"a pulse at least every {b.longest_gap(recent):.1f} s",
                evidence,
            )
    if (found := usual_pulse(pulses, w.signals, w.fs)) is not None:
        evidence["usual pulse longest gap s"] = round(found[1], 2)
        return Verdict(kind, False, f"VF not confirmed: {pulse_text(found)}", evidence)
    # a fibrillating heart has no QRS on any lead: one lead showing its usual narrow QRS at a calm pace
    # right through the last seconds rules it out (flutter waves, faster than 100/min, do not count)
    if (calm := calm_lead(w.ecg, w.signals, w.fs)) is not None:
        name, absence = calm
        evidence["usual QRS longest gap s"] = round(absence, 2)
        return Verdict(
            kind,
            False,
            f"VF not confirmed: lead {name} shows the patient's usual narrow QRS at least every "
            f"{absence:.1f} s and never faster than {60.0 / VT_USUAL_MIN_INTERVAL_S:.0f}/min",
            evidence,
        )
    if leads and all(50.0 <= b.after(recent).rate() <= 150.0 and b.regularity() < 0.15 for b in leads):
        return Verdict(kind, False, "VF not confirmed: regular QRS on two leads", evidence)
    return None
