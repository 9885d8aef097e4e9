"""Alarm conditions present at one instant, from a bed's numerics and technical states (pure functions).

A finding is a condition as it is now, before any delay; the engine turns findings that last into
alarms. Only current, valid values can raise a physiological alarm: a stale or invalid value is a
technical matter ("no signal", "sensor off"), never a silent pass and never a guess.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from wardwatch.app.alarms.model import Category, Priority
from wardwatch.app.alarms.settings import AlarmSettings, LimitRule
from wardwatch.app.codes import MdcCode, info
from wardwatch.app.domain import TECHNICAL_TEXT, Observation, TechnicalKind, Validity

TECHNICAL_PREFIX = "technical:"
ARRHYTHMIA_PREFIX = "arrhythmia:"
NEWS2_KEY = "news2"
ANALYSIS_KEY = TECHNICAL_PREFIX + "arrhythmia_analysis"
# a predicted risk, not a measured condition: advisory, silent unless the ward turns its tone on
DETERIORATION_KEY = "deterioration_risk"

# One event, one alarm: while the alarm on the left holds (and is not held back as false), the
# conditions on the right are not raised separately. V-tach at 180/min is not also "HR 180 > 120".
_VT, _VF = ARRHYTHMIA_PREFIX + "Ventricular_Tachycardia", ARRHYTHMIA_PREFIX + "Ventricular_Flutter_Fib"
_ASY, _BRADY, _TACHY = (ARRHYTHMIA_PREFIX + n for n in ("Asystole", "Bradycardia", "Tachycardia"))
_RATE_HIGH = frozenset({"hr_high", "pr_high"})
_RATE_LOW = frozenset({"hr_low", "pr_low"})
COVERS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "spo2_very_low": frozenset({"spo2_low"}),
        "glucose_very_low": frozenset({"glucose_low"}),
        NEWS2_KEY + "_high": frozenset({NEWS2_KEY + "_medium"}),
        # the ECG heart rate speaks for the pulse rate; without ECG (leads off) the pulse rate alarms
        "hr_high": frozenset({"pr_high"}),
        "hr_low": frozenset({"pr_low"}),
        _VF: _RATE_HIGH | _RATE_LOW | {_VT, _TACHY, _ASY, _BRADY},
        _ASY: _RATE_LOW | {_BRADY},
        _VT: _RATE_HIGH | {_TACHY},
        _TACHY: _RATE_HIGH,
        _BRADY: _RATE_LOW,
    }
)



def category_of(key: str) -> Category:
    """The category an alarm's key belongs to, for those who only have the key (journal, record)."""
    if key.startswith(TECHNICAL_PREFIX):
        return Category.TECHNICAL
    if key.startswith(ARRHYTHMIA_PREFIX):
        return Category.ARRHYTHMIA
    if key == NEWS2_KEY or key.startswith(NEWS2_KEY + "_"):
        return Category.NEWS2
    if key == DETERIORATION_KEY:
        return Category.ADVISORY
    return Category.PHYSIOLOGICAL

def covered_keys(findings: Iterable[Finding]) -> set[str]:
    """Keys made redundant by a more specific or more urgent finding that is not held back."""
    out: set[str] = set()
    for f in findings:
        if not f.held_back:
            out |= COVERS.get(f.key, frozenset())
    return out


@dataclass(frozen=True, slots=True)
class Finding:
    key: str
    category: Category
    priority: Priority
    message: str
    delay_s: float = 0.0
    latching: bool = False
    # An arrhythmia the verification found false: shown muted with `reason`, never sounded.
    held_back: bool = False
    reason: str = ""
    evidence: Mapping[str, float] = field(default_factory=dict)
    audible: bool = True  # False: an advisory that is shown and recorded but never sounds


def _value_text(value: float, code: MdcCode) -> str:
    return f"{value:.1f}" if code == MdcCode.TEMP_BODY else f"{value:.0f}"


def _limit_message(rule: LimitRule, value: float) -> str:
    label = info(rule.code).label
    if rule.key == "apnoea":
        return "Apnoea"
    if rule.code in (MdcCode.PRESS_BLD_NONINV_SYS, MdcCode.PRESS_BLD_NONINV_DIA):
        label = "NIBP sys" if rule.code == MdcCode.PRESS_BLD_NONINV_SYS else "NIBP dia"
    v = _value_text(value, rule.code)
    low_side = rule.low is not None and (rule.high is None or value < rule.low)
    limit = rule.low if low_side else rule.high
    if limit is None:  # a rule always has one side; kept total for safety
        return f"{label} {v}"
    sign = "<" if low_side else ">"
    inside = value >= limit if low_side else value <= limit
    # still within the hysteresis: the alarm holds, and the text must not claim "90 < 90"
    return (
        f"{label} {v}, limit {_value_text(limit, rule.code)}"
        if inside
        else (f"{label} {v} {sign} {_value_text(limit, rule.code)}")
    )


def is_current(obs: Observation | None, now: float) -> bool:
    """A valid value, no older than its channel allows: the only kind that may raise a limit alarm."""
    if obs is None or obs.validity is not Validity.VALID:
        return False
    max_age = info(obs.code).max_age_s
    return max_age is None or now - obs.time <= max_age


def limit_findings(
    rules: Iterable[LimitRule],
    numerics: Mapping[MdcCode, Observation],
    now: float,
    raised: Collection[str] = (),
) -> list[Finding]:
    """The limit alarms whose condition holds now (`raised`: keys of alarms already raised, which
    hold until the value is back inside by the rule's hysteresis). Of two rules breached on one side
    of one parameter (SpO₂ < 90 and < 85) both hold here; `COVERS` keeps only the more urgent."""
    out: list[Finding] = []
    for rule in rules:
        if not rule.enabled:
            continue
        obs = numerics.get(rule.code)
        if obs is None or not is_current(obs, now) or not rule.breached(obs.value, rule.key in raised):
            continue
        out.append(
            Finding(
                key=rule.key,
                category=Category.PHYSIOLOGICAL,
                priority=rule.priority,
                message=_limit_message(rule, obs.value),
                delay_s=rule.delay_s,
                evidence=MappingProxyType({"value": float(obs.value)}),
            )
        )
    return out


def technical_findings(
    conditions: Iterable[tuple[TechnicalKind, str]], settings: AlarmSettings
) -> list[Finding]:
    """One technical alarm per active technical condition of the bed (never latching)."""
    out: list[Finding] = []
    for kind, detail in conditions:
        text = TECHNICAL_TEXT.get(kind, kind.value)
        out.append(
            Finding(
                key=TECHNICAL_PREFIX + kind.value,
                category=Category.TECHNICAL,
                priority=settings.technical.get(kind, Priority.MEDIUM),
                message=text,
                delay_s=settings.technical_delay_s.get(kind, 0.0),
                reason=detail,
            )
        )
    return out
