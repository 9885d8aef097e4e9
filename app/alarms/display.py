"""How alarms read on screen, as pure functions the widgets call (testable without Qt).

Flash rates follow IEC 60601-1-8: high 1.4–2.8 Hz, medium 0.4–0.8 Hz, low steady, each with a 50 %
duty cycle; an acknowledged alarm no longer flashes. Priority is always written too (`***`, `**`,
`*`), and a technical alarm carries its own marker (`!`), so nothing rests on colour alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from wardwatch.app.alarms.model import Alarm, AlarmSnapshot, Category, Priority, State

FLASH_HZ = {Priority.HIGH: 2.0, Priority.MEDIUM: 0.6}
DUTY = 0.5


def flash_on(priority: Priority, t: float, steady: bool = False) -> bool:
    """Whether a flashing alarm is in its lit phase at time `t` (steady ones always are)."""
    hz = FLASH_HZ.get(priority)
    if steady or hz is None:
        return True
    return (t * hz) % 1.0 < DUTY


def clock_text(t: float) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%H:%M:%S")


def state_text(alarm: Alarm) -> str:
    """The alarm's state in words for the bar and lists."""
    if alarm.state is State.HELD_BACK:
        return "held back"
    if alarm.state is State.CLEARED:
        return "ended"
    parts: list[str] = []
    if alarm.state is State.LATCHED:
        parts.append("ended — acknowledge")
    if alarm.state is State.ACKNOWLEDGED and alarm.acknowledged_at is not None:
        parts.append(f"ack {alarm.acknowledged_by or '?'} {clock_text(alarm.acknowledged_at)}")
    if alarm.escalated and alarm.state is not State.ACKNOWLEDGED:
        parts.append("ESCALATED")
    return ", ".join(parts)


def pause_text(remaining_s: float) -> str:
    """The audio-paused countdown, e.g. "AUDIO PAUSED 1:45"."""
    s = max(0, int(remaining_s + 0.999))
    return f"AUDIO PAUSED {s // 60}:{s % 60:02d}"


@dataclass(frozen=True, slots=True)
class TileAlarm:
    """What a bed sector's message area shows: its most urgent alarm, or a held-back note."""

    text: str
    priority: Priority | None  # None: technical-style or held-back (no priority colour)
    technical: bool
    held_back: bool
    steady: bool  # acknowledged or latched-and-seen: no flashing


def tile_alarm(snapshot: AlarmSnapshot, bed: str) -> TileAlarm | None:
    shown = snapshot.for_bed(bed)
    if shown:
        top = shown[0]  # the snapshot is sorted: priority first, then newest
        more = f" (+{len(shown) - 1})" if len(shown) > 1 else ""
        return TileAlarm(
            text=top.banner() + more,
            priority=top.priority,
            technical=top.category is Category.TECHNICAL,
            held_back=False,
            steady=top.state is State.ACKNOWLEDGED,
        )
    held = [a for a in snapshot.held_back_for_bed(bed) if a.state is State.HELD_BACK]
    if held:
        return TileAlarm(
            text=f"{held[0].message} held back — see reason",
            priority=None,
            technical=False,
            held_back=True,
            steady=True,
        )
    return None
