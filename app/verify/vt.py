"""Verification of a ventricular tachycardia alarm: looked for positively, and held back by witnesses
beating against it.

A VT is looked for positively (`runs.py`): five or more alike beats above 100/min where the patient's
usual beat vanished on every lead. Where there is such a run, a pulse or lead beating at the run's own
pace, or a QRS detector that missed its broad beats, is no witness against it; where there is none, the
ECG alone may hold the alarm back — leads that agreed before and no longer show the same beats
(`leads.py`), a lead whose usual narrow QRS leaves no room for five other beats, or slow baseline drift
filling every lead (`quality.py`: movement the monitor took for broad beats).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy.typing as npt
from wardwatch.app.verify.alarm_types import Verdict
from wardwatch.app.verify.leads import LeadAgreement, agreements, best_agreement, never_agreed
from wardwatch.app.verify.quality import slow_share
from wardwatch.app.verify.runs import VentricularRun, longest_absence, ventricular_run
from wardwatch.app.verify.usual_beats import (
    BASELINE_END_S,
    RECENT_S,
    VT_USUAL_GAP_S,
    VT_USUAL_MIN_INTERVAL_S,
    calm_lead,
    longest,
    narrow_usual,
    usual_beat_gaps,
    usual_qrs_verdict,
)
from wardwatch.app.verify.waves import Beats, Stretch, is_steady_pulse, pulse_kept_pace, run_rates
from wardwatch.app.verify.witnesses import EVENT_S, Witnesses, clean_pulse, rate_text, sounded

# A steady pulse below this rate, beat after beat over the last 10 s, rules out a ventricular run fast
# enough to alarm (VT perfuses at its own rate or not at all).
VT_PULSE_RATE = 100.0
VT_PULSE_CV = 0.15
# A channel beating within this fraction of a ventricular run's rate is beating with the run (a pulse: the
# run perfusing; a lead: the run itself), so it is no witness against it.
RUN_PACE_MATCH = 0.15
# Two leads whose activity coincided before (correlation of their envelopes) and no longer does over the
# event's seconds see something that is not the heart: every beat moves all leads at once.
LEADS_AGREED = 0.6
LEADS_DISAGREE = 0.5
# A lead whose activity never matched another lead's (as different as unrelated signals) is no witness.
LEADS_NEVER_AGREED = 0.4
# Baseline movement (below 0.8 Hz) carrying at least this share of every lead's power over the last
# RECENT_S is motion or a loose electrode, not a heart rhythm (`quality.py`). No true VT here without a
# run of alike complexes comes near (highest 0.04); the nearest true VT (v143l, 0.25: a baseline step
# during its broad rhythm) shows its run, which keeps it sounding whatever its share.
VT_SLOW_SHARE = 0.3


def verify(w: Witnesses) -> Verdict:
    usual = usual_beat_gaps(w.ecg, w.signals, w.fs)
    run = ventricular_run(w.ecg, w.signals, w.fs)
    if run is not None:
        w.evidence["run rate"] = round(run.rate, 1)
        w.evidence["run likeness"] = round(run.likeness, 3)
    if (held := _pace_witness(w, run, usual)) is not None:
        return held
    if (held := _ecg_witness(w, run)) is not None:
        return held
    if (held := usual_qrs_verdict(w, usual)) is not None:
        return held
    if run is not None:
        return Verdict(w.kind, True, f"VT: {_run_text(run)}", w.evidence)
    return sounded(w)


def _pace_witness(w: Witnesses, run: VentricularRun | None, usual: Mapping[str, Stretch]) -> Verdict | None:
    """A pulse, or a lead, beating at a pace that leaves no room for a run."""
    kind, ecg, pulses, since, evidence = w.kind, w.ecg, w.pulses, w.since, w.evidence
    regular_pulse = clean_pulse(pulses, since, max_cv=VT_PULSE_CV)
    fastest = max(
        (float(run_rates(b.after(since), 5).max(initial=0.0)) for b in ecg if not b.flat), default=0.0
    )
    slow_pulse = regular_pulse is not None and regular_pulse.after(since).rate() < VT_PULSE_RATE
    # an arterial line is a reliable witness; a pleth only when no lead shows a fast run at all; and
    # neither when the pulse keeps the pace of a run the ECG shows: that is the run perfusing
    if (
        regular_pulse is not None
        and slow_pulse
        and (regular_pulse.name == "ABP" or fastest < 105.0)
        and not _keeps_run_pace(run, regular_pulse, since)
    ):
        return Verdict(kind, False, f"VT not confirmed: {rate_text(regular_pulse, since)}", evidence)
    # a run of 5 beats above 100/min either shortens the intervals (pulse or QRS) or, not perfusing,
    # drops pulses: a pulse or a lead below that rate at an unchanging pace up to the last beat
    # rules it out (a missed VT beat leaves a gap, which breaks the pace too)
    for beats in (*pulses, *ecg):
        if _keeps_run_pace(run, beats, since):
            continue  # steady at the run's own pace: that is the run (perfusing, on a pulse)
        if is_steady_pulse(beats, since) and beats.after(since).rate() < VT_PULSE_RATE:
            return Verdict(
                kind,
                False,
                f"VT not confirmed: {beats.name} steady at {beats.after(since).rate():.0f}/min "
                "to the last beat, every interval within 12 %",
                evidence,
            )
    # every pulse of the last 10 s at the usual pace and strength of the patient's own baseline: a
    # run of ventricular beats fills and ejects differently, so it leaves early, late, weak or
    # missing pulses behind (every true VT with a pulse channel in the PhysioNet 2015 set does)
    last = Stretch(max(0.0, w.duration - EVENT_S), w.duration)
    if (b := _kept_pace(pulses, last)) is not None:
        return Verdict(
            kind,
            False,
            f"VT not confirmed: {b.name} kept the patient's usual pace and strength through the "
            f"last {last.length:.0f} s",
            evidence,
        )
    # where the usual QRS vanished (on every lead that gives one) is where a run would be: a pulse
    # that kept its usual pace and strength right through that stretch says the heart did too
    usable = [b for b in ecg if not b.flat and b.missing <= 0.05]
    if usual and len(usual) == len(usable):
        stretch = longest(usual)
        if (b := _kept_pace(pulses, stretch)) is not None:
            return Verdict(
                kind,
                False,
                f"VT not confirmed: {b.name} kept its usual pace and strength through the "
                f"{stretch.length:.1f} s where the ECG changed",
                evidence,
            )
    return None


def _ecg_witness(w: Witnesses, run: VentricularRun | None) -> Verdict | None:
    """The ECG alone saying no: only where no run of alike beats shows."""
    kind, ecg, signals, fs, since, leads, evidence = (
        w.kind,
        w.ecg,
        w.signals,
        w.fs,
        w.since,
        w.leads,
        w.evidence,
    )
    pairs = agreements(ecg, signals, fs, EVENT_S, BASELINE_END_S)
    agreement = best_agreement(pairs)
    if agreement is not None:
        evidence["lead agreement"] = round(agreement.recent, 3)
        evidence["lead agreement before"] = round(agreement.before, 3)
    if (
        run is None
        and agreement is not None
        and agreement.before >= LEADS_AGREED
        and agreement.recent < LEADS_DISAGREE
    ):
        a, b = agreement.leads
        return Verdict(
            kind,
            False,
            f"VT not confirmed: leads {a} and {b} no longer show the same beats (artefact on one "
            "lead; a VT shows on all leads at once)",
            evidence,
        )
    if run is None and (calm := calm_lead(ecg, signals, fs)) is not None:
        name, absence = calm
        evidence["usual QRS longest gap s"] = round(absence, 2)
        return Verdict(
            kind,
            False,
            f"VT not confirmed: lead {name} shows the patient's usual narrow QRS at least every "
            f"{absence:.1f} s and never faster than {60.0 / VT_USUAL_MIN_INTERVAL_S:.0f}/min",
            evidence,
        )
    if run is None and (lone := _lone_witness(ecg, pairs, signals, fs)) is not None:
        name, absence = lone
        evidence["usual QRS longest gap s"] = round(absence, 2)
        return Verdict(
            kind,
            False,
            f"VT not confirmed: lead {name}, the only lead showing the heart's beats, shows the "
            f"patient's usual narrow QRS at least every {absence:.1f} s",
            evidence,
        )
    # slow baseline movement filling every lead, and no run of alike complexes in it: the monitor
    # counted the movement as broad beats (a VT's own beats would add power above 1.7 Hz)
    if run is None and (share := _moving_baseline(ecg, signals, fs)) is not None:
        evidence["slow baseline share"] = round(share, 3)
        return Verdict(
            kind,
            False,
            f"VT not confirmed: slow baseline drift (patient movement or a loose electrode) makes up at "
            f"least {share:.0%} of every ECG lead's signal, and no run of alike fast beats shows",
            evidence,
        )
    # beats counted by the QRS detector say no fast run, unless the wave itself repeats a new complex
    # beat after beat (broad complexes are what a detector tuned on narrow ones misses)
    if (
        run is None
        and len(leads) >= 2
        and all(float(run_rates(b.after(since), 5).max(initial=0.0)) < 95.0 for b in leads)
    ):
        return Verdict(
            kind, False, "VT not confirmed: no run of 5 beats above 95/min on any clean lead", evidence
        )
    return None


def _kept_pace(pulses: list[Beats], stretch: Stretch) -> Beats | None:
    """The first pulse channel that kept the patient's usual pace and strength through `stretch`."""
    return next((b for b in pulses if pulse_kept_pace(b, stretch, BASELINE_END_S)), None)


def _lone_witness(
    ecg: list[Beats], pairs: list[LeadAgreement], signals: Mapping[str, npt.ArrayLike], fs: float
) -> tuple[str, float] | None:
    """(lead, longest absence of its usual complex) when a single lead speaks for the heart — the only
    usable one, or the only one with a consistent usual beat among leads that never showed the same
    beats as each other (the others record noise, not the heart) — and shows that beat often enough to
    leave no room for five other beats (VT_USUAL_GAP_S)."""
    usable = [b for b in ecg if not b.flat and b.missing <= 0.05]
    if not usable or (
        len(usable) > 1
        and (not pairs or not all(never_agreed(pairs, b.name, LEADS_NEVER_AGREED) for b in usable))
    ):
        return None
    found = [(b, u) for b in usable if (u := narrow_usual(b, signals, fs)) is not None]
    if len(found) != 1:
        return None
    lead, usual = found[0]
    absence = longest_absence(usual, lead.duration - RECENT_S, lead.duration)
    return (lead.name, absence) if absence <= VT_USUAL_GAP_S else None


def _moving_baseline(ecg: list[Beats], signals: Mapping[str, npt.ArrayLike], fs: float) -> float | None:
    """The lowest share of slow baseline movement among the usable leads, when there are two or more
    and every one of them reaches VT_SLOW_SHARE (movement on one lead leaves the others to show a VT)."""
    usable = [b for b in ecg if not b.flat and b.missing <= 0.05]
    shares = [slow_share(signals[b.name], fs, RECENT_S) for b in usable]
    if len(usable) < 2 or any(s is None or s < VT_SLOW_SHARE for s in shares):
        return None
    return min(s for s in shares if s is not None)


def _keeps_run_pace(run: VentricularRun | None, beats: Beats, since: float) -> bool:
    return run is not None and abs(beats.after(since).rate() - run.rate) <= RUN_PACE_MATCH * run.rate


def _run_text(run: VentricularRun) -> str:
    where = f", in place of the usual beats on {' and '.join(run.vanished_on)}" if run.vanished_on else ""
    return f"a run of alike beats at {run.rate:.0f}/min on lead {run.lead}{where}"
