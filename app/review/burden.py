"""The alarm burden of beds and of the ward over a period, and advice where the evidence supports it.

Pure functions over alarm episodes. Suggestions are advice for a charge nurse to weigh, never applied:
nothing here changes a limit. Each one cites its evidence (how many alarms, how many of them short)
and names the lever the literature supports for nuisance alarms — a condition delay, or a limit moved
within what the patient's own target allows (Welch 2011; Görges 2009: most short alarms need no action).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from wardwatch.app.alarms.findings import TECHNICAL_PREFIX, category_of
from wardwatch.app.alarms.settings import AlarmSettings, LimitRule, default_settings
from wardwatch.app.codes import MdcCode, info
from wardwatch.app.review.episodes import AlarmEpisode, alarm_type_text

SHORT_S = 15.0  # an alarm over within this long is one a nurse rarely could or needed to act on
DAY_S = 86400.0
# Evidence a suggestion needs: enough alarms of one kind on one bed, and most of them short.
MIN_ALARMS_PER_12H = 12
MIN_SHORT_SHARE = 0.6
MIN_TECHNICAL_PER_12H = 6
MIN_HELD_PER_12H = 5
# How far a suggested limit moves, per channel (one step a ward would consider, not a recommendation).
_LIMIT_STEP: dict[MdcCode, float] = {
    MdcCode.PULS_OXIM_SAT_O2: 2.0,
    MdcCode.ECG_HEART_RATE: 5.0,
    MdcCode.PULS_OXIM_PULS_RATE: 5.0,
    MdcCode.RESP_RATE: 2.0,
    MdcCode.PRESS_BLD_NONINV_SYS: 5.0,
    MdcCode.PRESS_BLD_NONINV_DIA: 5.0,
    MdcCode.TEMP_BODY: 0.2,
}
DELAY_STEP_S = 10.0
# The longest condition delay advice may name: IEC 60601-2-27 allows a heart-rate alarm 10 s; other
# parameters are held to 30 s, beyond which a real deterioration would wait too long.
_DELAY_CAP_S: dict[MdcCode, float] = {
    MdcCode.ECG_HEART_RATE: 10.0,
    MdcCode.PULS_OXIM_PULS_RATE: 10.0,
    MdcCode.PULS_RATE: 10.0,
}
DELAY_CAP_S = 30.0
# What to look at for each technical condition: the sensor, the device, or the station itself.
_SENSOR = "check the sensor or electrodes, their placement and the skin under them; replace them if worn"
_TECHNICAL_ADVICE = {
    "lead_off": _SENSOR,
    "sensor_off": _SENSOR,
    "poor_signal": _SENSOR,
    "no_signal": _SENSOR,
    "low_battery": "charge or replace the device's battery",
    "disconnected": "check the device's cable, or that the patient stays in radio range",
}
_STATION_PROBLEM = "a device or station problem, not the patient's: tell biomedical engineering or IT"


@dataclass(frozen=True, slots=True)
class BurdenRow:
    """One bed's (or the ward's) alarms over the period."""

    name: str  # the bed's label, or "Ward"
    beds: int
    period_s: float
    total: int
    audible: int
    held_back: int
    by_priority: dict[str, int]
    by_type: dict[str, int]
    acknowledged: int
    ack_median_s: float | None
    ack_p90_s: float | None
    short: int  # over within SHORT_S

    @property
    def per_bed_day(self) -> float:
        bed_days = self.beds * self.period_s / DAY_S
        return self.total / bed_days if bed_days > 0 else 0.0


@dataclass(frozen=True, slots=True)
class FrequentAlarm:
    bed: str  # label
    key: str
    count: int
    short: int
    median_s: float | None

    @property
    def text(self) -> str:
        return alarm_type_text(self.key)


@dataclass(frozen=True, slots=True)
class Burden:
    start: float
    end: float
    beds: tuple[BurdenRow, ...]
    ward: BurdenRow
    frequent: tuple[FrequentAlarm, ...]  # most alarms first, then the shortest
    suggestions: tuple[str, ...] = field(default=())


def _row(name: str, beds: int, period_s: float, episodes: Sequence[AlarmEpisode]) -> BurdenRow:
    acks = np.array([e.ack_after_s for e in episodes if e.ack_after_s is not None], np.float64)
    return BurdenRow(
        name=name,
        beds=beds,
        period_s=period_s,
        total=len(episodes),
        audible=sum(1 for e in episodes if e.audible),
        held_back=sum(1 for e in episodes if e.held_back),
        by_priority=dict(Counter(e.priority for e in episodes)),
        by_type=dict(Counter(e.category for e in episodes)),
        acknowledged=len(acks),
        ack_median_s=float(np.median(acks)) if len(acks) else None,
        ack_p90_s=float(np.percentile(acks, 90)) if len(acks) else None,
        short=sum(1 for e in episodes if _short(e)),
    )


def _short(e: AlarmEpisode) -> bool:
    d = e.duration_s
    return d is not None and d < SHORT_S


def alarm_burden(
    episodes: Iterable[AlarmEpisode],
    beds: Sequence[tuple[str, str]],
    start: float,
    end: float,
    settings_for: Callable[[str], AlarmSettings] | None = None,
    top: int = 10,
) -> Burden:
    """`beds`: (bed id, label) of the beds reviewed, in ward order; episodes of other beds are left out."""
    labels = dict(beds)
    mine = [e for e in episodes if e.bed in labels]
    period = max(0.0, end - start)
    rows = tuple(_row(label, 1, period, [e for e in mine if e.bed == bed]) for bed, label in beds)
    ward = _row("Ward", len(beds), period, mine)
    groups: dict[tuple[str, str], list[AlarmEpisode]] = {}
    for e in mine:
        groups.setdefault((e.bed, e.key), []).append(e)
    frequent = []
    for (bed, key), group in groups.items():
        durations = [d for d in (e.duration_s for e in group) if d is not None]
        frequent.append(
            FrequentAlarm(
                labels[bed],
                key,
                len(group),
                sum(1 for e in group if _short(e)),
                float(np.median(durations)) if durations else None,
            )
        )
    frequent.sort(key=lambda f: (-f.count, f.median_s if f.median_s is not None else np.inf))
    lookup = settings_for or (lambda _bed: default_settings())
    advice = [
        text
        for (bed, key), group in sorted(groups.items(), key=lambda kv: -len(kv[1]))
        if (text := _suggestion(labels[bed], key, group, period, lookup(bed))) is not None
    ]
    return Burden(start, end, rows, ward, tuple(frequent[:top]), tuple(advice))


def _hours_text(period_s: float) -> str:
    hours = period_s / 3600.0
    return f"{hours:.0f} h" if hours >= 1 else f"{period_s / 60:.0f} min"


def _value(code: MdcCode, value: float) -> str:
    unit = info(code).unit_label
    number = f"{value:.1f}" if code == MdcCode.TEMP_BODY else f"{value:.0f}"
    return f"{number} {unit}" if unit != "%" else f"{number} %"


def _suggestion(
    bed: str, key: str, group: Sequence[AlarmEpisode], period_s: float, settings: AlarmSettings
) -> str | None:
    """One piece of advice for one kind of alarm on one bed, or None when the evidence is thin."""
    scale = max(period_s, 1.0) / (12 * 3600.0)  # thresholds are per 12 h, scaled to the period
    n = len(group)
    when = f"{n} alarms in {_hours_text(period_s)}"
    category = category_of(key).value
    if category == "technical":
        if n < MIN_TECHNICAL_PER_12H * scale:
            return None
        advice = _TECHNICAL_ADVICE.get(key.removeprefix(TECHNICAL_PREFIX), _STATION_PROBLEM)
        return f"{alarm_type_text(key)} on {bed}: {n} times in {_hours_text(period_s)} — {advice}"
    if category == "arrhythmia":
        held = sum(1 for e in group if e.held_back and e.released_at is None)
        if held < MIN_HELD_PER_12H * scale:
            return None
        return (
            f"{alarm_type_text(key)} on {bed}: {held} of {n} held back as false in {_hours_text(period_s)} —"
            " the ECG is often disturbed; check the electrodes and lead choice"
        )
    if category != "physiological":
        return None  # NEWS2 and others call for a clinical review, not a setting
    rule = settings.rule(key)
    short = sum(1 for e in group if _short(e))
    if rule is None or n < MIN_ALARMS_PER_12H * scale or short < MIN_SHORT_SHARE * n:
        return None
    return f"{_rule_text(rule)} on {bed}: {when}, {short} lasted under {SHORT_S:.0f} s — {_levers(rule)}"


def _rule_text(rule: LimitRule) -> str:
    name = info(rule.code).label
    side = "low" if rule.low is not None else "high"
    limit = rule.low if rule.low is not None else rule.high
    return f"{name} {side} limit {_value(rule.code, float(limit or 0.0))}"


def _levers(rule: LimitRule) -> str:
    step = _LIMIT_STEP.get(rule.code)
    cap = _DELAY_CAP_S.get(rule.code, DELAY_CAP_S)
    longer = min(rule.delay_s + DELAY_STEP_S, cap)
    levers = []
    if longer > rule.delay_s:
        levers.append(f"a delay of {longer:.0f} s (now {rule.delay_s:.0f} s)")
    if step is not None and (rule.low is not None or rule.high is not None):
        moved = (rule.low - step) if rule.low is not None else (rule.high or 0.0) + step
        levers.append(f"{_value(rule.code, moved)} if the patient's target allows")
    if not levers:
        return "review this limit with the patient's clinician"
    return "consider " + " or ".join(levers)
