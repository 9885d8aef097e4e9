"""Alarms and technical problems as episodes, from the lines the record keeps (pure functions).

The journal records what happened to an alarm line by line (raised or held back, released, escalated,
acknowledged, its condition ended, cleared); a review wants one row per alarm: when it came, who dealt
with it and after how long, how long it lasted. Alarm numbers restart with the station, so an episode
is keyed by bed, number and condition, and a new "raised" line always begins a new episode.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from wardwatch.app.alarms.findings import (
    ANALYSIS_KEY,
    ARRHYTHMIA_PREFIX,
    DETERIORATION_KEY,
    NEWS2_KEY,
    TECHNICAL_PREFIX,
    category_of,
)
from wardwatch.app.alarms.model import Action
from wardwatch.app.domain import TECHNICAL_TEXT, TechnicalKind
from wardwatch.storage.review_queries import AlarmLine, TechnicalLine

# The names a nurse reads for the limit alarms' keys (the alarm bar writes the value with them).
_LIMIT_NAMES = {
    "hr_high": "HR high",
    "hr_low": "HR low",
    "pr_high": "Pulse high",
    "pr_low": "Pulse low",
    "spo2_low": "SpO₂ low",
    "spo2_very_low": "SpO₂ very low",
    "rr_high": "RR high",
    "rr_low": "RR low",
    "apnoea": "Apnoea",
    "nibp_sys_high": "NIBP sys high",
    "nibp_sys_low": "NIBP sys low",
    "nibp_dia_high": "NIBP dia high",
    "nibp_dia_low": "NIBP dia low",
    "temp_high": "Temp high",
    "temp_low": "Temp low",
}


_DEVICE_PREFIX = "device:"
_DEVICE_PROBLEMS = {"silent": "not reporting", "end": "infusion complete"}


def alarm_type_text(key: str) -> str:
    """ "arrhythmia:Ventricular_Tachycardia" → "Ventricular Tachycardia", "spo2_low" → "SpO₂ low"."""
    if key.startswith(ARRHYTHMIA_PREFIX):
        return key[len(ARRHYTHMIA_PREFIX) :].replace("_", " ")
    if key.startswith(TECHNICAL_PREFIX):
        return technical_text(key[len(TECHNICAL_PREFIX) :])
    if key.startswith(NEWS2_KEY + "_"):
        return f"NEWS2 {key[len(NEWS2_KEY) + 1 :]}"
    if key == DETERIORATION_KEY:
        return "Deterioration risk"
    return _LIMIT_NAMES.get(key, key.replace("_", " ").capitalize())


def technical_text(kind: str) -> str:
    if kind == ANALYSIS_KEY.removeprefix(TECHNICAL_PREFIX):
        return "Arrhythmia analysis off"
    if kind.startswith(_DEVICE_PREFIX):
        # a bed's further device (fleet): "device:pump:insulin1@bed02:silent" → "Pump insulin1: not reporting"
        source, _, what = kind.removeprefix(_DEVICE_PREFIX).rpartition(":")
        device_kind, _, name = source.partition("@")[0].partition(":")
        problem = _DEVICE_PROBLEMS.get(what, what.replace("_", " "))
        return f"{device_kind.capitalize()} {name}: {problem}"
    try:
        return TECHNICAL_TEXT[TechnicalKind(kind)]
    except ValueError:
        return kind.replace("_", " ")




@dataclass(frozen=True, slots=True)
class AlarmEpisode:
    """One alarm of one bed, from its first journal line to its last."""

    bed: str
    alarm_id: int | None
    key: str
    priority: str  # "high", "medium", "low"
    raised_at: float  # raised, or held back
    message: str  # as the alarm bar wrote it when raised ("SpO₂ 86 < 90"), else the alarm's type
    held_back: bool = False  # the verification found it false when it came
    reason: str = ""  # the verification's reasoning (held back, or released after all)
    released_at: float | None = None  # a held-back alarm raised after all
    escalated_at: float | None = None
    acknowledged_at: float | None = None
    acknowledged_by: str | None = None
    ended_at: float | None = None  # the condition ended (a latched alarm then waits for acknowledgement)
    cleared_at: float | None = None

    @property
    def type_text(self) -> str:
        return alarm_type_text(self.key)

    @property
    def category(self) -> str:
        return category_of(self.key).value

    @property
    def audible(self) -> bool:
        """Sounded at the station: raised, or held back and then released."""
        return not self.held_back or self.released_at is not None

    @property
    def sounding_from(self) -> float:
        return self.released_at if self.released_at is not None else self.raised_at

    @property
    def ack_after_s(self) -> float | None:
        """Seconds from sounding to acknowledgement (None: nobody acknowledged it, or it never sounded)."""
        if self.acknowledged_at is None or not self.audible:
            return None
        return max(0.0, self.acknowledged_at - self.sounding_from)

    @property
    def end(self) -> float | None:
        """When the condition was over (its end, else its clearing)."""
        return self.ended_at if self.ended_at is not None else self.cleared_at

    @property
    def duration_s(self) -> float | None:
        end = self.end
        return None if end is None else max(0.0, end - self.raised_at)


def alarm_episodes(lines: Iterable[AlarmLine]) -> list[AlarmEpisode]:
    """Journal lines (oldest first) as the alarms they tell of, in the order they came. Lines of an
    alarm raised before the first line given are left out: its episode began outside the period."""
    episodes: list[AlarmEpisode] = []
    open_at: dict[tuple[str, int | None, str], int] = {}  # → index in `episodes`
    for line in lines:
        if not line.key or line.action in (Action.CLINICAL_ENTRY, Action.LIMITS_CHANGED):
            continue
        k = (line.bed, line.alarm_id, line.key)
        if line.action in (Action.RAISED, Action.HELD_BACK):
            held = line.action == Action.HELD_BACK
            open_at[k] = len(episodes)
            episodes.append(
                AlarmEpisode(
                    bed=line.bed,
                    alarm_id=line.alarm_id,
                    key=line.key,
                    priority=line.priority or "",
                    raised_at=line.time,
                    message=alarm_type_text(line.key) if held else (line.detail or alarm_type_text(line.key)),
                    held_back=held,
                    reason=line.detail if held else "",
                )
            )
            continue
        i = open_at.get(k)
        if i is None:
            continue
        episodes[i] = _apply(episodes[i], line)
        if line.action == Action.CLEARED:
            del open_at[k]
    return episodes


def _apply(episode: AlarmEpisode, line: AlarmLine) -> AlarmEpisode:
    action = line.action
    if action == Action.RELEASED and episode.released_at is None:
        return replace(episode, released_at=line.time, reason=line.detail or episode.reason)
    if action == Action.ESCALATED and episode.escalated_at is None:
        return replace(episode, escalated_at=line.time)
    if action == Action.ACKNOWLEDGED and episode.acknowledged_at is None:
        return replace(episode, acknowledged_at=line.time, acknowledged_by=line.user)
    if action == Action.CONDITION_ENDED and episode.ended_at is None:
        return replace(episode, ended_at=line.time)
    if action == Action.CLEARED:
        return replace(episode, cleared_at=line.time)
    return episode


@dataclass(frozen=True, slots=True)
class TechnicalEpisode:
    """A technical condition of a bed (leads off, sensor off, battery low, link lost) from start to end."""

    bed: str
    kind: str
    start: float
    end: float | None  # None: still going at the end of the period
    detail: str = ""

    @property
    def text(self) -> str:
        return technical_text(self.kind)

    @property
    def duration_s(self) -> float | None:
        return None if self.end is None else max(0.0, self.end - self.start)


def technical_episodes(lines: Iterable[TechnicalLine]) -> list[TechnicalEpisode]:
    """On/off lines (oldest first) as episodes, in the order they began; an "off" without its "on" in
    the period began before it and is left out."""
    episodes: list[TechnicalEpisode] = []
    open_at: dict[tuple[str, str], int] = {}
    for line in lines:
        k = (line.bed, line.kind)
        if line.active:
            if k not in open_at:
                open_at[k] = len(episodes)
                episodes.append(TechnicalEpisode(line.bed, line.kind, line.time, None, line.detail))
            continue
        i = open_at.pop(k, None)
        if i is not None:
            episodes[i] = replace(episodes[i], end=line.time)
    return episodes
