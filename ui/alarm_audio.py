"""The station's alarm sound, driven by the alarm engine's snapshot: the highest priority sounding."""

from __future__ import annotations

from PySide6.QtCore import QObject
from wardwatch.app.alarms.model import Priority
from wardwatch.app.alarms.tones import TonePriority
from wardwatch.ui.sound import AlarmSound

_TONE = {
    Priority.HIGH: TonePriority.HIGH,
    Priority.MEDIUM: TonePriority.MEDIUM,
    Priority.LOW: TonePriority.LOW,
}


class StationSound:
    """Keeps the player in step with the snapshot, touching it only when something changes."""

    def __init__(self, parent: QObject | None = None) -> None:
        self.player = AlarmSound(parent)
        self._state: tuple[Priority | None, bool, bool] | None = None

    @property
    def problem(self) -> str | None:
        return self.player.problem

    def show(self, priority: Priority | None, paused: bool, escalated: bool) -> None:
        state = (priority, paused, escalated)
        if state == self._state:
            return
        self._state = state
        self.player.set_paused(paused)
        self.player.set_escalated(escalated)
        self.player.set_priority(None if priority is None else _TONE[priority])

    def silence(self) -> None:
        self.show(None, False, False)
