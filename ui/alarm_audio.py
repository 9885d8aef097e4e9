"""The station's alarm sound, driven by the alarm engine's snapshot: the highest priority sounding."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from wardwatch.app.alarms.model import Priority


class _Silent(QObject):
    """Stands in when no player can be made: keeps the state, says plainly that nothing sounds."""

    burst_started = Signal(str)

    def __init__(self, problem: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.problem = problem
        self.available = False

    def set_priority(self, priority: object) -> None:
        if priority is not None:
            self.burst_started.emit(str(getattr(priority, "value", priority)))

    def set_paused(self, paused: bool) -> None:
        pass

    def set_escalated(self, escalated: bool) -> None:
        pass


def _player(parent: QObject | None) -> QObject:
    try:
        from wardwatch.ui.sound import AlarmSound
    except ImportError as exc:  # the station must run, visibly without sound, rather than not at all
        return _Silent(f"Alarm sound unavailable ({exc.name}): alarms are shown but not sounded", parent)
    return AlarmSound(parent)


def _tone(priority: Priority) -> object:
    try:
        from wardwatch.app.alarms.tones import TonePriority
    except ImportError:
        return priority.word
    return TonePriority(priority.word)


class StationSound:
    """Keeps the player in step with the snapshot, touching it only when something changes."""

    def __init__(self, parent: QObject | None = None) -> None:
        self.player = _player(parent)
        self._state: tuple[Priority | None, bool, bool] | None = None

    @property
    def problem(self) -> str | None:
        return getattr(self.player, "problem", None)

    def show(self, priority: Priority | None, paused: bool, escalated: bool) -> None:
        state = (priority, paused, escalated)
        if state == self._state:
            return
        self._state = state
        self.player.set_paused(paused)  # type: ignore[attr-defined]
        self.player.set_escalated(escalated)  # type: ignore[attr-defined]
        self.player.set_priority(None if priority is None else _tone(priority))  # type: ignore[attr-defined]

    def silence(self) -> None:
        self.show(None, False, False)
