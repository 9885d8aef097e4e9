"""Verification of an extreme bradycardia alarm ("< 40/min for 5 beats"): held back by a witness beating
faster.

A clean pulse, or else two ECG leads agreeing on the rate, whose every run of 5 beats over the last 10 s
stays at 45/min or above with no gap of 2 s contradicts it: a margin looser than the alarm's definition.
"""

from __future__ import annotations

from wardwatch.app.verify.alarm_types import Verdict
from wardwatch.app.verify.waves import run_rates
from wardwatch.app.verify.witnesses import Witnesses, rate_text, sounded


def verify(w: Witnesses) -> Verdict:
    kind, since, evidence = w.kind, w.since, w.evidence
    witness = w.pulse or (w.leads[0] if w.leads else None)
    if witness is not None:
        rates = run_rates(witness.after(since), 5)
        if len(rates) and float(rates.min()) >= 45.0 and witness.longest_gap(since) < 2.0:
            return Verdict(kind, False, f"Bradycardia not confirmed: {rate_text(witness, since)}", evidence)
    return sounded(w)
