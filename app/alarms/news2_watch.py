"""Continuous NEWS2 per bed: the monitor's latest current numerics plus what a nurse entered
(consciousness, air or oxygen, SpO₂ scale), scored every engine tick; a medium or high band raises an
alarm of matching priority. Runs inside the alarm engine's tick (its `extra` rules)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from wardwatch.app.alarms.early_warning import Band, Consciousness, News2Inputs, News2Score, score_news2
from wardwatch.app.alarms.findings import NEWS2_KEY, Finding, is_current
from wardwatch.app.alarms.model import Category, Priority
from wardwatch.app.alarms.settings import AlarmSettings
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import Observation, Validity
from wardwatch.app.hub import StreamHub

HISTORY_EVERY_S = 60.0  # one point a minute for the trend
HISTORY_POINTS = 24 * 60
TREND_OVER_S = 3600.0  # the arrow compares with the score an hour ago
# NIBP is intermittent: a systolic pressure counts for NEWS2 for as long as a ward would use it.
SBP_VALID_S = 3600.0


SettingsFor = Callable[[str], AlarmSettings]


@dataclass(frozen=True, slots=True)
class ClinicalEntries:
    """What only a person can tell the station, with who entered it and when."""

    consciousness: Consciousness | None = None
    on_oxygen: bool | None = None
    spo2_scale: int = 1
    entered_by: str | None = None
    entered_at: float | None = None


@dataclass(frozen=True, slots=True)
class BedNews2:
    score: News2Score
    trend: int | None  # change since about an hour ago (None: not enough history)
    time: float

    @property
    def arrow(self) -> str:
        if self.trend is None or self.trend == 0:
            return ""
        return "↑" if self.trend > 0 else "↓"


def _value(numerics: Mapping[MdcCode, Observation], now: float, *codes: MdcCode) -> float | None:
    for code in codes:
        obs = numerics.get(code)
        if obs is not None and is_current(obs, now):
            return float(obs.value)
    return None


def inputs_from(numerics: Mapping[MdcCode, Observation], entries: ClinicalEntries, now: float) -> News2Inputs:
    sbp = _value(numerics, now, MdcCode.PRESS_BLD_ART_SYS)
    cuff = numerics.get(MdcCode.PRESS_BLD_NONINV_SYS)
    cuff_usable = cuff is not None and cuff.validity is Validity.VALID and now - cuff.time <= SBP_VALID_S
    if sbp is None and cuff is not None and cuff_usable:
        sbp = float(cuff.value)
    return News2Inputs(
        rr=_value(numerics, now, MdcCode.RESP_RATE),
        spo2=_value(numerics, now, MdcCode.PULS_OXIM_SAT_O2),
        spo2_scale=entries.spo2_scale,
        on_oxygen=entries.on_oxygen,
        sbp=sbp,
        pulse=_value(numerics, now, MdcCode.ECG_HEART_RATE, MdcCode.PULS_OXIM_PULS_RATE, MdcCode.PULS_RATE),
        consciousness=entries.consciousness,
        temp=_value(numerics, now, MdcCode.TEMP_BODY),
    )


class News2Watch:
    def __init__(self, hub: StreamHub, settings_for: SettingsFor) -> None:
        self._hub = hub
        self._settings_for = settings_for
        self._lock = threading.Lock()
        self._entries: dict[str, ClinicalEntries] = {}
        self._latest: dict[str, BedNews2] = {}
        self._history: dict[str, deque[tuple[float, int]]] = {}

    def entries(self, bed: str) -> ClinicalEntries:
        return self._entries.get(bed, ClinicalEntries())

    def set_entries(self, bed: str, entries: ClinicalEntries) -> None:
        with self._lock:
            self._entries = {**self._entries, bed: entries}

    def forget(self, bed: str) -> None:
        with self._lock:
            self._entries = {k: v for k, v in self._entries.items() if k != bed}
            self._latest = {k: v for k, v in self._latest.items() if k != bed}
            self._history.pop(bed, None)

    def latest(self, bed: str) -> BedNews2 | None:
        return self._latest.get(bed)

    def history(self, bed: str) -> list[tuple[float, int]]:
        return list(self._history.get(bed, ()))

    def __call__(self, bed: str, now: float) -> list[Finding]:
        """The engine's extra rule: score the bed now, remember it, and raise for a medium/high band."""
        streams = self._hub.streams(bed)
        if streams is None:
            return []
        score = score_news2(inputs_from(dict(streams.numerics), self.entries(bed), now))
        history = self._history.setdefault(bed, deque(maxlen=HISTORY_POINTS))
        if not history or now - history[-1][0] >= HISTORY_EVERY_S:
            history.append((now, score.total))
        trend = None
        if history and now - history[0][0] >= TREND_OVER_S * 0.9:
            past = next((s for t, s in reversed(history) if now - t >= TREND_OVER_S), history[0][1])
            trend = score.total - past
        self._latest = {**self._latest, bed: BedNews2(score, trend, now)}
        return news2_findings(score, self._settings_for(bed))


def news2_findings(score: News2Score, settings: AlarmSettings) -> list[Finding]:
    if score.band not in (Band.MEDIUM, Band.HIGH):
        return []
    high = score.band is Band.HIGH
    priority: Priority = settings.news2_high if high else settings.news2_medium
    missing = f" ({', '.join(score.missing)} not entered)" if score.missing else ""
    return [
        Finding(
            key=f"{NEWS2_KEY}_{score.band.value}",
            category=Category.NEWS2,
            priority=priority,
            message=f"NEWS2 {score.text} {'high' if high else 'medium'}",
            delay_s=60.0,  # a band held for a minute, not a single noisy reading
            reason=(
                "NEWS2 "
                + ", ".join(f"{k} {v}" for k, v in score.parameter_scores.items() if v)
                + missing
                + (": emergency response" if high else ": urgent clinical review")
            ),
            evidence={k: float(v) for k, v in score.parameter_scores.items()},
        )
    ]
