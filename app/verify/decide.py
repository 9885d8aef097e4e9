"""Screening for arrhythmias on the ECG, and verifying an arrhythmia alarm on every other signal.

Verification follows the common ground of the 2015 PhysioNet/CinC Challenge's best entries
(ALARMS.md §2): an alarm is held back only on *positive* evidence that it is false — a clean
pulsatile channel (arterial pressure, pleth) beating regularly at a rate that contradicts it, or two
ECG leads agreeing on a normal rhythm. Missing, flat or noisy signals never suppress an alarm, and
any error lets it through. Margins are looser than the alarm definitions (45/min for a "< 40"
bradycardia, 120/min for a "> 140" tachycardia), physiology-grounded, not fitted to the records.

A VT is also looked for positively (`runs.py`): five or more alike beats above 100/min where the
patient's usual beat vanished on every lead. Where there is such a run, a pulse or lead beating at the
run's own pace, or a QRS detector that missed its broad beats, is no witness against it; where there is
none, the ECG alone may hold the alarm back — leads that agreed before and no longer show the same
beats (`leads.py`), a lead whose usual narrow QRS leaves no room for five other beats, or slow baseline
drift filling every lead (`quality.py`: movement the monitor took for broad beats).

A standstill or a fibrillation ejects nothing: the patient's usual pulse wave recurring through the last
seconds (`pulses.py`) holds either back, and a lead's usual narrow QRS at a calm pace holds a VF back. A
tachycardia is held back when a lead's usual QRS leaves no room for 17 fast beats and a pulse is calm too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from wardwatch.app.verify.alarm_types import ArrhythmiaType, Verdict
from wardwatch.app.verify.leads import LeadAgreement, agreements, best_agreement, never_agreed
from wardwatch.app.verify.pulses import usual_pulse_gap
from wardwatch.app.verify.quality import slow_share
from wardwatch.app.verify.runs import (
    UsualComplex,
    VentricularRun,
    ecg_wave,
    longest_absence,
    usual_complex,
    ventricular_run,
)
from wardwatch.app.verify.waves import (
    ECG_NAMES,
    PULSE_NAMES,
    Beats,
    Stretch,
    dominant_frequency,
    ecg_beats,
    fill_gaps,
    is_clean_rhythm,
    is_steady_pulse,
    pulse_beats,
    pulse_kept_pace,
    run_rates,
    usual_beat_gap,
)

log = logging.getLogger(__name__)

# The alarm's onset lies in the last ~10 s before it sounds (AAMI EC13, the 2015 Challenge).
EVENT_S = 10.0
# QRS width as `waves._qrs_width` measures it (above 30 % of the peak): ~0.03 s for a sharp narrow
# complex, ~0.1 s for a broad ventricular one.
VT_WIDE_S = 0.07
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
# The patient's usual QRS (learned before the last BASELINE_END_S) searched for in the last RECENT_S.
BASELINE_END_S = 16.0
RECENT_S = 12.0
# Five ventricular beats at up to 200/min between two usual ones span six intervals, at least 1.8 s:
# usual complexes never further apart than this on every lead leave no room for such a run.
VT_USUAL_GAP_S = 1.5
# The usual complex never recurring sooner than this (100/min) leaves no beat of a VT on the lead either.
VT_USUAL_MIN_INTERVAL_S = 0.6
# One ECG lead alone may contradict an asystole when it beats this often and this regularly.
ASYSTOLE_LEAD_GAP_S = 1.5
ASYSTOLE_LEAD_CV = 0.35
# A pulse this frequent, at a rate a heart perfuses with, contradicts VF. Above 130/min a pulse wave
# may be artefact or chest compressions (one true asystole here shows a "pleth" at 150/min).
VF_PULSE_GAP_S = 1.6
VF_PULSE_RATES = (40.0, 130.0)
# Asystole and VF both need at least 4 s without a normal complex.
STANDSTILL_USUAL_GAP_S = 3.0
# Nor does a standstill or a fibrillation leave a pulse: the patient's usual pulse wave recurring at least
# this often through the last 10 s rules out 4 s without a beat (the same limit as for a clean pulse's
# gaps; true asystoles here leave the usual pulse absent 3.4 s or more).
STANDSTILL_PULSE_GAP_S = 2.5
# A "> 140/min for 17 beats" tachycardia lasts at least 16 intervals of 0.43 s, 6.9 s: a lead whose usual
# QRS is never absent longer than TACHY_USUAL_GAP_S leaves no room for it in other beats, and never
# recurring sooner than TACHY_USUAL_MIN_INTERVAL_S (120/min) not in usual ones either.
TACHY_USUAL_GAP_S = 3.0
TACHY_USUAL_MIN_INTERVAL_S = 0.5
TACHY_PULSE_RATE = 120.0
# Baseline movement (below 0.8 Hz) carrying at least this share of every lead's power over the last
# RECENT_S is motion or a loose electrode, not a heart rhythm (`quality.py`). No true VT here without a
# run of alike complexes comes near (highest 0.04); the nearest true VT (v143l, 0.25: a baseline step
# during its broad rhythm) shows its run, which keeps it sounding whatever its share.
VT_SLOW_SHARE = 0.3


def _channels(signals: Mapping[str, npt.ArrayLike], fs: float) -> tuple[list[Beats], list[Beats]]:
    ecg = [ecg_beats(n, x, fs) for n, x in signals.items() if n in ECG_NAMES]
    pulses = [pulse_beats(n, signals[n], fs) for n in PULSE_NAMES if n in signals]
    return ecg, pulses


def _clean_pulse(pulses: list[Beats], since: float, max_cv: float = 0.2) -> Beats | None:
    for beats in pulses:  # arterial pressure first: it is the better witness
        if is_clean_rhythm(beats, since, max_cv):
            return beats
    return None


def _agreeing_ecg(ecg: list[Beats], since: float) -> list[Beats]:
    """Clean ECG leads whose rates agree within 10 % (one lead alone may count noise as beats)."""
    clean = [b for b in ecg if is_clean_rhythm(b, since, 0.25)]
    if len(clean) < 2:
        return []
    rates = [b.after(since).rate() for b in clean]
    ref = float(np.median(rates))
    agree = [b for b, r in zip(clean, rates, strict=True) if abs(r - ref) <= 0.1 * ref]
    return agree if len(agree) >= 2 else []


def _usual_beat_gaps(ecg: list[Beats], signals: Mapping[str, npt.ArrayLike], fs: float) -> dict[str, Stretch]:
    gaps: dict[str, Stretch] = {}
    for beats in ecg:
        gap = usual_beat_gap(beats, signals[beats.name], fs, RECENT_S, BASELINE_END_S)
        if gap is not None:
            gaps[beats.name] = gap
    return gaps


def _longest(gaps: Mapping[str, Stretch]) -> Stretch:
    return max(gaps.values(), key=lambda s: s.length)


def _usual_beats_text(gaps: Mapping[str, Stretch]) -> str:
    leads = " and ".join(gaps)
    return f"the patient's usual QRS recurs at least every {_longest(gaps).length:.1f} s on leads {leads}"


def _kept_pace(pulses: list[Beats], stretch: Stretch) -> Beats | None:
    """The first pulse channel that kept the patient's usual pace and strength through `stretch`."""
    return next((b for b in pulses if pulse_kept_pace(b, stretch, BASELINE_END_S)), None)


def _narrow_usual(lead: Beats, signals: Mapping[str, npt.ArrayLike], fs: float) -> UsualComplex | None:
    """The lead's usual complex when it is a narrow one: a broad usual beat may be a ventricular rhythm
    already under way, no witness against VT."""
    baseline = lead.widths[lead.times < lead.duration - BASELINE_END_S]
    if not len(baseline) or float(np.median(baseline)) >= VT_WIDE_S:
        return None
    return usual_complex(lead, ecg_wave(signals[lead.name], fs), fs)


def _calm_lead(
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
        if lead.flat or lead.missing > 0.05 or (usual := _narrow_usual(lead, signals, fs)) is None:
            continue
        since = lead.duration - RECENT_S
        times = usual.times[usual.times >= since]
        absence = longest_absence(usual, since, lead.duration)
        if len(times) >= 2 and absence <= max_absence and float(np.diff(times).min()) >= min_interval:
            return lead.name, absence
    return None


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
    found = [(b, u) for b in usable if (u := _narrow_usual(b, signals, fs)) is not None]
    if len(found) != 1:
        return None
    lead, usual = found[0]
    absence = longest_absence(usual, lead.duration - RECENT_S, lead.duration)
    return (lead.name, absence) if absence <= VT_USUAL_GAP_S else None


def _usual_pulse(
    pulses: list[Beats], signals: Mapping[str, npt.ArrayLike], fs: float
) -> tuple[str, float] | None:
    """(channel, longest absence of its usual pulse over the last EVENT_S) for the first pulse channel
    whose usual pulse recurs at least every STANDSTILL_PULSE_GAP_S."""
    for beats in pulses:
        gap = usual_pulse_gap(beats, signals[beats.name], fs, EVENT_S, BASELINE_END_S)
        if gap is not None and gap.length <= STANDSTILL_PULSE_GAP_S:
            return beats.name, gap.length
    return None


def _pulse_text(found: tuple[str, float]) -> str:
    name, gap = found
    return f"{name} shows the patient's usual pulse wave at least every {gap:.1f} s (the heart is ejecting)"


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


def _rate_text(beats: Beats, since: float) -> str:
    how = "pulsatile" if beats.name in PULSE_NAMES else "regular"
    return f"{beats.name} {how} at {beats.after(since).rate():.0f}/min"


_SHORT_NAMES: Mapping[ArrhythmiaType, str] = {
    ArrhythmiaType.VENTRICULAR_TACHYCARDIA: "VT",
    ArrhythmiaType.VENTRICULAR_FLUTTER_FIB: "VF",
}
_USUAL_BEAT_LIMITS: Mapping[ArrhythmiaType, float] = {
    ArrhythmiaType.VENTRICULAR_TACHYCARDIA: VT_USUAL_GAP_S,
    ArrhythmiaType.ASYSTOLE: STANDSTILL_USUAL_GAP_S,
    ArrhythmiaType.VENTRICULAR_FLUTTER_FIB: STANDSTILL_USUAL_GAP_S,
}


def verify_alarm(alarm_type: ArrhythmiaType, signals: Mapping[str, npt.ArrayLike], fs: float) -> Verdict:
    """Whether an arrhythmia alarm is true (sound it) or provably false (hold it back, with why)."""
    try:
        return _verify(ArrhythmiaType(alarm_type), signals, fs)
    except Exception as exc:  # never suppress on an error
        log.warning("verification of %s failed: %s", alarm_type, exc)
        return Verdict(ArrhythmiaType(alarm_type), True, f"not verified ({type(exc).__name__}): sounded")


def _verify(kind: ArrhythmiaType, signals: Mapping[str, npt.ArrayLike], fs: float) -> Verdict:
    ecg, pulses = _channels(signals, fs)
    duration = max((b.duration for b in (*ecg, *pulses)), default=0.0)
    since = max(0.0, duration - EVENT_S)
    pulse = _clean_pulse(pulses, since)
    leads = _agreeing_ecg(ecg, since)
    evidence: dict[str, float] = {}
    for b in (*ecg, *pulses):
        evidence[f"{b.name} rate"] = round(b.after(since).rate(), 1)
        evidence[f"{b.name} missing"] = round(b.missing, 3)
    label = kind.value.replace("_", " ")
    usual = _usual_beat_gaps(ecg, signals, fs) if kind in _USUAL_BEAT_LIMITS else {}
    run: VentricularRun | None = None
    if kind is ArrhythmiaType.ASYSTOLE:
        # every clean pulse, not the first only: an arterial line flushed or zeroed for a few seconds is
        # still regular around the flush while the pleth beats on
        for p in pulses:
            if is_clean_rhythm(p, since) and p.longest_gap(since) < 2.5:
                return Verdict(kind, False, f"Asystole not confirmed: {_rate_text(p, since)}", evidence)
        if leads and all(b.longest_gap(since) < 3.0 for b in leads):
            names = " and ".join(b.name for b in leads)
            return Verdict(kind, False, f"Asystole not confirmed: QRS every beat on leads {names}", evidence)
        # one lead keeping a beat at least every 1.5 s all through the last 10 s, at a rate and pace a
        # heart keeps, contradicts 4 s without a QRS (true standstills here leave gaps of 3.4 s or more)
        for b in ecg:
            if is_clean_rhythm(b, since, ASYSTOLE_LEAD_CV) and b.longest_gap(since) <= ASYSTOLE_LEAD_GAP_S:
                return Verdict(
                    kind,
                    False,
                    f"Asystole not confirmed: lead {b.name} shows a QRS at least every "
                    f"{b.longest_gap(since):.1f} s, {b.after(since).rate():.0f}/min",
                    evidence,
                )
        if (found := _usual_pulse(pulses, signals, fs)) is not None:
            evidence["usual pulse longest gap s"] = round(found[1], 2)
            return Verdict(kind, False, f"Asystole not confirmed: {_pulse_text(found)}", evidence)
    elif kind is ArrhythmiaType.BRADYCARDIA:
        witness = pulse or (leads[0] if leads else None)
        if witness is not None:
            rates = run_rates(witness.after(since), 5)
            if len(rates) and float(rates.min()) >= 45.0 and witness.longest_gap(since) < 2.0:
                return Verdict(
                    kind, False, f"Bradycardia not confirmed: {_rate_text(witness, since)}", evidence
                )
    elif kind is ArrhythmiaType.TACHYCARDIA:
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
        calm = _calm_lead(ecg, signals, fs, TACHY_USUAL_GAP_S, TACHY_USUAL_MIN_INTERVAL_S)
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
                return Verdict(
                    kind, False, f"Tachycardia not confirmed: {_rate_text(leads[0], since)}", evidence
                )
    elif kind is ArrhythmiaType.VENTRICULAR_TACHYCARDIA:
        run = ventricular_run(ecg, signals, fs)
        if run is not None:
            evidence["run rate"] = round(run.rate, 1)
            evidence["run likeness"] = round(run.likeness, 3)
        regular_pulse = _clean_pulse(pulses, since, max_cv=VT_PULSE_CV)
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
            return Verdict(kind, False, f"VT not confirmed: {_rate_text(regular_pulse, since)}", evidence)
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
        last = Stretch(max(0.0, duration - EVENT_S), duration)
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
            stretch = _longest(usual)
            if (b := _kept_pace(pulses, stretch)) is not None:
                return Verdict(
                    kind,
                    False,
                    f"VT not confirmed: {b.name} kept its usual pace and strength through the "
                    f"{stretch.length:.1f} s where the ECG changed",
                    evidence,
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
        if run is None and (calm := _calm_lead(ecg, signals, fs)) is not None:
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
    elif kind is ArrhythmiaType.VENTRICULAR_FLUTTER_FIB:
        recent = max(0.0, duration - 8.0)
        if pulse is not None and pulse.longest_gap(recent) < 2.5:
            return Verdict(kind, False, f"VF not confirmed: {_rate_text(pulse, recent)}", evidence)
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
        if (found := _usual_pulse(pulses, signals, fs)) is not None:
            evidence["usual pulse longest gap s"] = round(found[1], 2)
            return Verdict(kind, False, f"VF not confirmed: {_pulse_text(found)}", evidence)
        # a fibrillating heart has no QRS on any lead: one lead showing its usual narrow QRS at a calm pace
        # right through the last seconds rules it out (flutter waves, faster than 100/min, do not count)
        if (calm := _calm_lead(ecg, signals, fs)) is not None:
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
    # only two or more leads with a trustworthy template may say no (one lead can be fooled)
    if len(usual) >= 2:
        evidence["usual QRS longest gap s"] = round(_longest(usual).length, 2)
        if _longest(usual).length <= _USUAL_BEAT_LIMITS[kind]:
            name = _SHORT_NAMES.get(kind, label)
            return Verdict(kind, False, f"{name} not confirmed: {_usual_beats_text(usual)}", evidence)

    if kind is ArrhythmiaType.VENTRICULAR_TACHYCARDIA and run is not None:
        return Verdict(kind, True, f"VT: {_run_text(run)}", evidence)
    return Verdict(kind, True, f"{label}: no signal contradicts it", evidence)


def detect_arrhythmias(signals: Mapping[str, npt.ArrayLike], fs: float) -> list[ArrhythmiaType]:
    """The bedside screening on the ECG (sensitive, as a monitor's is); `verify_alarm` then checks
    each candidate against the other signals."""
    try:
        return _detect(signals, fs)
    except Exception as exc:
        log.warning("arrhythmia screening failed: %s", exc)
        raise


def _detect(signals: Mapping[str, npt.ArrayLike], fs: float) -> list[ArrhythmiaType]:
    ecg, _ = _channels(signals, fs)
    usable = [b for b in ecg if not b.flat and b.missing < 0.2]
    if not usable:
        return []  # no ECG: leads off is a technical alarm, not asystole
    lead = max(usable, key=lambda b: (len(b.times) > 1, -b.missing))
    name = lead.name
    duration = lead.duration
    found: list[ArrhythmiaType] = []
    x = np.asarray(signals[name], np.float64)[-int(4 * fs) :]
    f0, concentration = dominant_frequency(x, fs)
    recent = lead.after(duration - 4.0)
    if 3.5 <= f0 <= 9.0 and concentration >= 0.45 and (len(recent.times) < 2 or recent.regularity() > 0.2):
        found.append(ArrhythmiaType.VENTRICULAR_FLUTTER_FIB)
    silent = all(b.longest_gap(max(0.0, duration - 6.0)) >= 4.0 for b in usable)
    if silent and not found and _quiet(np.asarray(signals[name], np.float64), fs):
        found.append(ArrhythmiaType.ASYSTOLE)
    if len(lead.times) >= 5:
        slow = run_rates(lead, 5)
        if float(slow[-1]) < 40.0:
            found.append(ArrhythmiaType.BRADYCARDIA)
    if len(lead.times) >= 17 and float(run_rates(lead, 17)[-1]) > 140.0:
        found.append(ArrhythmiaType.TACHYCARDIA)
    if _ventricular_run(lead):
        found.append(ArrhythmiaType.VENTRICULAR_TACHYCARDIA)
    return found


def _quiet(x: npt.NDArray[np.float64], fs: float) -> bool:
    """The last 4 s carry little electrical activity compared with the window: a standstill, not
    broad complexes the QRS detector failed to pick (a VT it missed must not read as asystole)."""
    y, _ = fill_gaps(x)
    tail = y[-int(4 * fs) :]
    whole = float(np.percentile(y, 99) - np.percentile(y, 1))
    recent = float(np.percentile(tail, 99) - np.percentile(tail, 1))
    return whole <= 0 or recent < 0.5 * whole


def _ventricular_run(lead: Beats, since: float | None = None) -> bool:
    """Five or more consecutive wide beats faster than 100/min (in the last 8 s by default)."""
    since = lead.duration - 8.0 if since is None else since
    t, w = lead.times, lead.widths
    if len(t) < 6:
        return False
    fast = np.diff(t) < 0.6  # the interval before each beat from the second one
    wide = w[1:] >= VT_WIDE_S
    start = 0
    for i in range(len(fast) + 1):
        if i == len(fast) or not fast[i]:  # a run of fast beats ends here: beats start+1 … i
            run = wide[start:i]
            if len(run) >= 5 and run.mean() >= 0.7 and t[i] >= since:
                return True
            start = i + 1
    return False
