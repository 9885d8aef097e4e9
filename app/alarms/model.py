"""Alarm vocabulary: priorities, kinds, states, the alarm record and what a person did to it.

Everything here is immutable: the engine replaces an alarm with a changed copy, so a snapshot handed to
the display or the record can never change under its reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class Priority(IntEnum):
    """IEC 60601-1-8 alarm priority; the order is the order of urgency."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def marker(self) -> str:
        """The vendor-conventional prefix, so priority never rests on colour alone."""
        return "*" * int(self)

    @property
    def word(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Priority:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown alarm priority {text!r}: use high, medium or low") from None


class Category(StrEnum):
    PHYSIOLOGICAL = "physiological"
    ARRHYTHMIA = "arrhythmia"
    TECHNICAL = "technical"
    NEWS2 = "news2"
    ADVISORY = "advisory"  # a predicted risk (deterioration), shown and recorded; silent unless configured


class State(StrEnum):
    """Where an alarm stands. ACTIVE sounds; ACKNOWLEDGED is silenced while its condition lasts;
    LATCHED is a high alarm whose condition ended but nobody has seen it yet; HELD_BACK is an
    arrhythmia alarm the verification found false, shown muted with its reason; CLEARED is over."""

    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    LATCHED = "latched"
    HELD_BACK = "held_back"
    CLEARED = "cleared"


class Action(StrEnum):
    RAISED = "raised"
    HELD_BACK = "held_back"
    RELEASED = "released"  # a held-back alarm raised after all: true-alarm evidence appeared
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    CONDITION_ENDED = "condition_ended"
    CLEARED = "cleared"
    AUDIO_PAUSED = "audio_paused"
    AUDIO_RESUMED = "audio_resumed"
    LIMITS_CHANGED = "limits_changed"
    CLINICAL_ENTRY = "clinical_entry"  # consciousness, oxygen or SpO₂ scale entered by a nurse


SOUNDING_STATES = frozenset({State.ACTIVE, State.LATCHED})
SHOWN_STATES = frozenset({State.ACTIVE, State.ACKNOWLEDGED, State.LATCHED})


@dataclass(frozen=True, slots=True)
class Alarm:
    """One alarm of one bed, from the moment its condition was confirmed to the moment it is cleared.

    `key` identifies the condition (e.g. "spo2_low" or "technical:lead_off"); there is at most one
    alarm per bed and key that is not cleared."""

    alarm_id: int
    bed: str
    key: str
    category: Category
    priority: Priority
    message: str  # what the nurse reads, e.g. "SpO₂ 86 < 90"
    condition_since: float  # when the condition began (before its delay)
    raised_at: float  # when the alarm was raised (or held back)
    state: State
    condition_active: bool = True
    latching: bool = False
    escalated_at: float | None = None
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None
    ended_at: float | None = None  # when the condition ended
    cleared_at: float | None = None
    reason: str = ""  # the verification's reasoning, in words (arrhythmia), or why it was raised
    evidence: Mapping[str, float] = field(default_factory=dict)
    audible: bool = True  # False: shown, recorded and acknowledgeable, but never sounds (an advisory)

    @property
    def escalated(self) -> bool:
        return self.escalated_at is not None

    @property
    def sounding(self) -> bool:
        return self.audible and self.state in SOUNDING_STATES

    @property
    def shown(self) -> bool:
        return self.state in SHOWN_STATES

    def banner(self) -> str:
        """The alarm as the alarm bar and the sector header write it ("*** Asystole")."""
        if self.category is Category.TECHNICAL:
            return f"! {self.message}"  # a distinct marker: technical, not physiological
        return f"{self.priority.marker} {self.message}"


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """A line of the alarm journal: what happened to which alarm, when and by whom."""

    time: float
    action: Action
    bed: str
    alarm_id: int | None
    key: str
    priority: Priority | None
    user: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AudioPause:
    """A station-wide AUDIO PAUSED state; `ceiling` is the highest priority sounding when it began:
    a new alarm above it breaks through."""

    started_at: float
    until: float
    by: str
    ceiling: Priority | None

    def remaining(self, now: float) -> float:
        return max(0.0, self.until - now)


@dataclass(frozen=True, slots=True)
class AlarmSnapshot:
    """Everything the display needs about alarms at one instant; `version` grows with every change."""

    version: int
    time: float
    alarms: tuple[Alarm, ...]  # shown alarms, sorted by priority (highest first) then time (newest first)
    held_back: tuple[Alarm, ...]  # held-back arrhythmia alarms still under watch, newest first
    pause: AudioPause | None
    fault: str | None = None  # the engine itself failed: the display must raise a station alarm

    @property
    def sounding_priority(self) -> Priority | None:
        """The priority that should sound now (None: silence), honouring an audio pause."""
        if self.pause is not None and self.pause.remaining(self.time) > 0:
            return None
        sounding = [a.priority for a in self.alarms if a.sounding]
        return max(sounding) if sounding else None

    @property
    def escalated(self) -> bool:
        return any(a.escalated and a.sounding for a in self.alarms)

    def for_bed(self, bed: str) -> tuple[Alarm, ...]:
        return tuple(a for a in self.alarms if a.bed == bed)

    def held_back_for_bed(self, bed: str) -> tuple[Alarm, ...]:
        return tuple(a for a in self.held_back if a.bed == bed)


EMPTY_SNAPSHOT = AlarmSnapshot(0, 0.0, (), (), None)


def sort_key(alarm: Alarm) -> tuple[int, float]:
    """Priority first, then the newest first: the order of the alarm bar."""
    return (-int(alarm.priority), -alarm.raised_at)
