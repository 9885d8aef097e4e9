"""Verification of an extreme tachycardia alarm ("> 140/min for 17 beats"): held back by witnesses
beating calmly.

A pulse steady well below the alarm's rate with a lead counting the same beats says the fast "rhythm" on
another lead is double-counted T waves or noise. A lead's usual QRS leaving no room for 17 fast beats
holds it back when a pulse is calm too; ECG leads that agree may say no alone (a pleth may miss every
other small beat at a fast rate).
"""

from __future__ import annotations

from wardwatch.app.verify.alarm_types import Verdict
from wardwatch.app.verify.usual_beats import calm_lead
from wardwatch.app.verify.waves import is_steady_pulse, run_rates
from wardwatch.app.verify.witnesses import Witnesses, rate_text, sounded

# A "> 140/min for 17 beats" tachycardia lasts at least 16 intervals of 0.43 s, 6.9 s: a lead whose usual
# QRS is never absent longer than TACHY_USUAL_GAP_S leaves no room for it in other beats, and never
# recurring sooner than TACHY_USUAL_MIN_INTERVAL_S (120/min) not in usual ones either.
TACHY_USUAL_GAP_S = 3.0
TACHY_USUAL_MIN_INTERVAL_S = 0.5
TACHY_PULSE_RATE = 120.0


def verify(w: Witnesses) -> Verdict:
    if (held := _held_back(w)) is not None:
        return held
    return sounded(w)


def _held_back(w: Witnesses) -> Verdict | None:
    kind, ecg, pulses, since, leads, evidence = w.kind, w.ecg, w.pulses, w.since, w.leads, w.evidence
    # a pulse steady well below the alarm's rate, and a lead counting the same beats, say the fast
    # "rhythm" on the other lead is double-counted T waves or noise
    for p in pulses:
        rate = p.after(since).rate()
        if not (is_steady_pulse(p, since) and rate <= 120.0):
            continue
        same = [b.name for b in ecg if not b.flat and abs(b.after(since).rate() - rate) <= 0.1 * rate]
        if same:
            return Verdict(
                kind,
                False,
                f"Tachycardia not confirmed: {p.name} steady at {rate:.0f}/min, as lead {same[0]}",
                evidence,
            )
    # a lead's usual QRS recurring at a calm pace with no room for 17 other beats, and a pulse at a calm
    # rate too (two witnesses: a lead showing its usual beat only every other beat, as in electrical
    # alternans, would still leave the pulse fast)
    calm = calm_lead(ecg, w.signals, w.fs, TACHY_USUAL_GAP_S, TACHY_USUAL_MIN_INTERVAL_S)
    slow = [
        p
        for p in pulses
        if not p.flat
        and p.missing <= 0.05
        and p.longest_gap(since) <= 2.0
        and p.after(since).rate() <= TACHY_PULSE_RATE
    ]
    if calm is not None and slow:
        name, absence = calm
        evidence["usual QRS longest gap s"] = round(absence, 2)
        return Verdict(
            kind,
            False,
            f"Tachycardia not confirmed: lead {name} shows the patient's usual QRS never faster than "
            f"{60.0 / TACHY_USUAL_MIN_INTERVAL_S:.0f}/min and never absent more than {absence:.1f} s, "
            f"{slow[0].name} at {slow[0].after(since).rate():.0f}/min",
            evidence,
        )
    # a pleth may miss every other small beat at a fast rate: only ECG leads that agree may say no
    if leads:
        rates = run_rates(leads[0].after(since), 5)
        if len(rates) and float(rates.max()) <= 120.0:
            return Verdict(kind, False, f"Tachycardia not confirmed: {rate_text(leads[0], since)}", evidence)
    return None
