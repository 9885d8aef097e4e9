"""How alarms read on screen, as pure functions the widgets call (testable without Qt).

Flash rates follow IEC 60601-1-8: high 1.4–2.8 Hz, medium 0.4–0.8 Hz, low steady, each with a 50 %
duty cycle; an acknowledged alarm no longer flashes. Priority is always written too (`***`, `**`,
`*`), and a technical alarm carries its own marker (`!`), so nothing rests on colour alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from wardwatch.app.alarms.model import Alarm, AlarmSnapshot, Category, Priority, State
from wardwatch.app.alarms.settings import AlarmSettings
from wardwatch.app.codes import MdcCode

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


def _limit_value(value: float, code: MdcCode) -> str:
    return f"{value:.1f}" if code == MdcCode.TEMP_BODY else f"{value:.0f}"


def limit_texts(settings: AlarmSettings) -> dict[MdcCode, str]:
    """The alarm limits written small beside each numeric ("50–120", "90–" for SpO₂): the first
    limit an alarm fires at on each side; "alarm off" when every limit of the parameter is off."""
    lows: dict[MdcCode, float] = {}
    highs: dict[MdcCode, float] = {}
    seen: set[MdcCode] = set()
    for rule in settings.limits:
        seen.add(rule.code)
        if not rule.enabled or rule.key == "apnoea":
            continue
        if rule.low is not None:
            lows[rule.code] = max(rule.low, lows.get(rule.code, rule.low))
        if rule.high is not None:
            highs[rule.code] = min(rule.high, highs.get(rule.code, rule.high))
    out: dict[MdcCode, str] = {}
    for code in seen:
        low, high = lows.get(code), highs.get(code)
        if low is None and high is None:
            out[code] = "alarm off"
            continue
        low_text = _limit_value(low, code) if low is not None else ""
        high_text = _limit_value(high, code) if high is not None else ""
        out[code] = f"{low_text}–{high_text}"
    return out
