"""Scenario definitions as data: a patient's baseline, then phases (episodes) repeated after a lead-in.

Every scenario starts with a stretch of normal rhythm (the lead-in, lengthened per bed by a stagger)
so that a freshly started ward does not alarm all at once; then its `intro` plays once and its
`cycle` repeats for ever. A phase names the rhythm and the vital-sign targets it ramps to; a target
left as None means "the patient's own baseline".
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import StrEnum


class Rhythm(StrEnum):
    SINUS = "sinus"
    AF = "af"
    VT = "vt"
    VF = "vf"
    ASYSTOLE = "asystole"
    P_ONLY = "p_only"  # ventricular standstill: the atria still beat, the ventricles do not


NON_BEATING: frozenset[Rhythm] = frozenset({Rhythm.VF, Rhythm.ASYSTOLE})


@dataclass(frozen=True, slots=True)
class Vitals:
    """Vital-sign targets: heart rate, SpO₂ %, respiratory rate, NIBP sys/dia mmHg, temperature °C."""

    hr: float
    spo2: float
    rr: float
    sys: float
    dia: float
    temp: float

    def lerp(self, other: Vitals, w: float) -> Vitals:
        if w <= 0.0:
            return self
        if w >= 1.0:
            return other
        return Vitals(
            *(
                a + (b - a) * w
                for a, b in zip(
                    (self.hr, self.spo2, self.rr, self.sys, self.dia, self.temp),
                    (other.hr, other.spo2, other.rr, other.sys, other.dia, other.temp),
                    strict=True,
                )
            )
        )

    def offset(self, spread: Vitals, u: tuple[float, ...]) -> Vitals:
        """This baseline moved by `spread` times `u` (one number in [-1, 1] per field)."""
        names = [f.name for f in fields(Vitals)]
        return Vitals(*(getattr(self, n) + getattr(spread, n) * x for n, x in zip(names, u, strict=True)))


@dataclass(frozen=True, slots=True)
class Phase:
    duration_s: float
    rhythm: Rhythm = Rhythm.SINUS
    hr: float | None = None
    spo2: float | None = None
    rr: float | None = None
    sys: float | None = None
    dia: float | None = None
    temp: float | None = None
    ramp_s: float = 0.0  # time to move from the previous phase's targets to these (eased)
    lead_off: bool = False
    sensor_off: bool = False
    disconnected: bool = False
    motion: bool = False
    slow: bool = False  # a clinical trend: duration and ramp shrink with the `time_scale` option
    jitter: float = 0.2  # duration varies by up to this fraction from one cycle to the next

    def targets(self, baseline: Vitals) -> Vitals:
        return Vitals(
            baseline.hr if self.hr is None else self.hr,
            baseline.spo2 if self.spo2 is None else self.spo2,
            baseline.rr if self.rr is None else self.rr,
            baseline.sys if self.sys is None else self.sys,
            baseline.dia if self.dia is None else self.dia,
            baseline.temp if self.temp is None else self.temp,
        )


@dataclass(frozen=True, slots=True)
class Battery:
    """A battery-powered telemetry device that drains, warns below `low_below` and is swapped at `swap_at`."""

    drain_per_min: float
    low_below: float = 20.0
    swap_at: float = 5.0


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    summary: str
    baseline: Vitals
    spread: Vitals  # per-patient variation of the baseline (± this much, drawn per seed and bed)
    cycle: tuple[Phase, ...]
    intro: tuple[Phase, ...] = ()
    lead_in_s: float = 25.0
    stagger_s: float = 40.0  # the lead-in grows by up to this much, drawn per seed and bed
    pvc_per_min: float = 0.0
    battery: Battery | None = None


_NORMAL = Vitals(hr=74, spo2=97, rr=15, sys=122, dia=76, temp=36.8)
_SMALL = Vitals(hr=3, spo2=0.5, rr=1, sys=4, dia=3, temp=0.1)

# Each episode is followed by a return to the baseline, so the cycle reads "episode, recovery".
_CATALOGUE: tuple[Scenario, ...] = (
    Scenario(
        "stable",
        "Stable patient in sinus rhythm with normal vital signs",
        _NORMAL,
        Vitals(hr=10, spo2=1.2, rr=2.5, sys=10, dia=6, temp=0.3),
        cycle=(Phase(600.0, jitter=0.0),),
        stagger_s=0.0,
    ),
    Scenario(
        "restless",
        "An ordinary ward patient who moves: now and then a brief SpO₂ dip, a few seconds of faster "
        "heart rate on effort, an electrode lifting for a moment, motion artefact (the nuisance behind "
        "most alarms)",
        _NORMAL,
        Vitals(hr=10, spo2=1.2, rr=2.5, sys=10, dia=6, temp=0.3),
        cycle=(
            Phase(240.0),
            Phase(9.0, spo2=86, ramp_s=3.0),  # a probe slipping or a held breath: seconds, not a desaturation
            Phase(200.0, ramp_s=4.0),
            Phase(5.0, hr=132, ramp_s=2.0),  # sitting up, coughing
            Phase(220.0, ramp_s=4.0),
            Phase(6.0, lead_off=True),  # an electrode lifting while the patient turns
            Phase(180.0),
            Phase(10.0, motion=True),
            Phase(200.0),
        ),
    ),
    Scenario(
        "deterioration",
        "Slow deterioration over about two hours (sepsis-like): rising HR, RR and temperature, "
        "falling SpO₂ and blood pressure",
        Vitals(hr=80, spo2=97, rr=14, sys=125, dia=78, temp=37.0),
        _SMALL,
        intro=(
            Phase(
                7200.0,
                hr=125,
                spo2=89,
                rr=28,
                sys=88,
                dia=52,
                temp=38.9,
                ramp_s=7200.0,
                slow=True,
                jitter=0.0,
            ),
        ),
        cycle=(Phase(3600.0, hr=125, spo2=89, rr=28, sys=88, dia=52, temp=38.9, jitter=0.0),),
        pvc_per_min=0.3,
    ),
    Scenario(
        "slow_deterioration",
        "Sepsis developing over about 16 hours: fever, heart rate and breathing creep up for 8 hours while "
        "pressure and SpO₂ hold (NEWS2 stays low), then over 8 more hours pressure and SpO₂ fall too",
        Vitals(hr=78, spo2=97, rr=14, sys=128, dia=78, temp=36.9),
        _SMALL,
        intro=(
            # early sepsis: fever, tachycardia, faster breathing; the circulation still compensates
            Phase(
                8 * 3600.0,
                hr=104,
                spo2=96,
                rr=19,
                sys=118,
                dia=70,
                temp=38.5,
                ramp_s=8 * 3600.0,
                slow=True,
                jitter=0.0,
            ),
            # then it fails: pressure and oxygenation fall
            Phase(
                8 * 3600.0,
                hr=124,
                spo2=90,
                rr=27,
                sys=86,
                dia=50,
                temp=39.2,
                ramp_s=8 * 3600.0,
                slow=True,
                jitter=0.0,
            ),
        ),
        cycle=(Phase(3600.0, hr=124, spo2=90, rr=27, sys=86, dia=50, temp=39.2, jitter=0.0),),
        pvc_per_min=0.3,
    ),
    Scenario(
        "brady",
        "Sinus bradycardia around 38–45 bpm for minutes at a time",
        Vitals(hr=62, spo2=97, rr=14, sys=116, dia=70, temp=36.6),
        _SMALL,
        cycle=(Phase(480.0, hr=41, ramp_s=30.0), Phase(150.0, ramp_s=40.0)),
    ),
    Scenario(
        "tachy",
        "Sinus tachycardia around 135–160 bpm for minutes at a time",
        Vitals(hr=86, spo2=97, rr=18, sys=128, dia=80, temp=37.3),
        _SMALL,
        cycle=(Phase(480.0, hr=147, rr=22, ramp_s=30.0), Phase(150.0, ramp_s=60.0)),
    ),
    Scenario(
        "af",
        "Atrial fibrillation about 110 bpm: irregular RR, no P waves, fibrillatory baseline",
        Vitals(hr=84, spo2=96, rr=16, sys=126, dia=78, temp=36.9),
        _SMALL,
        cycle=(Phase(1500.0, rhythm=Rhythm.AF, hr=110), Phase(120.0, ramp_s=10.0)),
    ),
    Scenario(
        "asystole",
        "Sinus rhythm with episodes of asystole (about 10 s every 2 min), some with P waves only",
        Vitals(hr=68, spo2=97, rr=15, sys=118, dia=72, temp=36.7),
        _SMALL,
        cycle=(
            Phase(10.0, rhythm=Rhythm.ASYSTOLE),
            Phase(110.0),
            Phase(9.0, rhythm=Rhythm.P_ONLY),
            Phase(110.0),
        ),
    ),
    Scenario(
        "vt",
        "Sinus rhythm with ventricular ectopy and runs of ventricular tachycardia (~170 bpm, "
        "about 15 s every 90 s)",
        Vitals(hr=78, spo2=96, rr=16, sys=120, dia=74, temp=36.8),
        _SMALL,
        cycle=(Phase(15.0, rhythm=Rhythm.VT, hr=170), Phase(75.0)),
        pvc_per_min=2.0,
    ),
    Scenario(
        "vf",
        "Sinus rhythm with episodes of ventricular fibrillation, each heralded by a short VT run",
        Vitals(hr=76, spo2=96, rr=16, sys=118, dia=72, temp=36.8),
        _SMALL,
        cycle=(
            Phase(3.0, rhythm=Rhythm.VT, hr=190, jitter=0.0),
            Phase(12.0, rhythm=Rhythm.VF),
            Phase(110.0),
        ),
        pvc_per_min=1.0,
    ),
    Scenario(
        "desaturation",
        "Episodes where SpO₂ falls to about 82 % for tens of seconds, then recovers",
        Vitals(hr=76, spo2=96, rr=16, sys=124, dia=76, temp=36.8),
        _SMALL,
        cycle=(Phase(50.0, spo2=82, hr=86, ramp_s=20.0), Phase(100.0, ramp_s=25.0)),
    ),
    Scenario(
        "motion",
        "Bursts of large motion artefact on ECG, pleth and respiration; the true heart rate is unchanged",
        _NORMAL,
        _SMALL,
        cycle=(Phase(12.0, motion=True), Phase(60.0)),
    ),
    Scenario(
        "lead_off",
        "ECG electrodes come off for a while (no ECG, no impedance respiration)",
        _NORMAL,
        _SMALL,
        cycle=(Phase(15.0, lead_off=True), Phase(90.0)),
    ),
    Scenario(
        "sensor_off",
        "The SpO₂ sensor comes off the finger for a while (no pleth, no SpO₂)",
        _NORMAL,
        _SMALL,
        cycle=(Phase(15.0, sensor_off=True), Phase(90.0)),
    ),
    Scenario(
        "disconnect",
        "The device stops sending anything for about 20 s every 2 min",
        _NORMAL,
        _SMALL,
        cycle=(Phase(20.0, disconnected=True), Phase(100.0)),
    ),
    Scenario(
        "low_battery",
        "Battery-powered telemetry whose battery runs low (warning below 20 %) until it is swapped",
        _NORMAL,
        _SMALL,
        cycle=(Phase(600.0, jitter=0.0),),
        battery=Battery(drain_per_min=2.0),
    ),
)

SCENARIO_BY_NAME: dict[str, Scenario] = {s.name: s for s in _CATALOGUE}
SCENARIOS: tuple[str, ...] = tuple(s.name for s in _CATALOGUE)

# Which unusual patients a ward shows first when there are few beds: the ones that teach the most.
_SHOWCASE: tuple[str, ...] = (
    "deterioration",
    "vt",
    "af",
    "desaturation",
    "lead_off",
    "motion",
    "brady",
    "asystole",
    "tachy",
    "vf",
    "sensor_off",
    "disconnect",
    "low_battery",
    "slow_deterioration",
)


def default_mix(n_beds: int) -> list[str]:
    """Scenario names for an `n_beds` ward: mostly ordinary patients (stable and restless in turn), one
    bed each of as many unusual patients as fit while ordinary ones stay the majority, spread over the
    ward rather than side by side."""
    if n_beds < 0:
        raise ValueError("n_beds must not be negative")
    n_unusual = min(len(_SHOWCASE), (n_beds - 1) // 2) if n_beds > 0 else 0
    mix = ["stable" if i % 4 < 2 else "restless" for i in range(n_beds)]
    for i, name in enumerate(_SHOWCASE[:n_unusual]):
        mix[2 * i + 1] = name
    return mix


def with_time_scale(phase: Phase, time_scale: float) -> Phase:
    """`phase` with its clinical trend compressed `time_scale` times (episodes keep real durations,
    because alarm delays and a nurse's reading of a rhythm are measured in real seconds)."""
    if not phase.slow or time_scale == 1.0:
        return phase
    return replace(phase, duration_s=phase.duration_s / time_scale, ramp_s=phase.ramp_s / time_scale)
