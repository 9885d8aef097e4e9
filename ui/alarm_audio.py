"""The station's alarm sound, driven by the alarm engine's snapshot: the highest priority sounding."""

from __future__ import annotations

from PySide6.QtCore import QObject
from wardwatch.app.alarms.model import Priority
from wardwatch.ui.alarm_player import AlarmPlayer


class StationSound:
    """Keeps the player in step with the snapshot, touching it only when something changes."""

    def __init__(self, parent: QObject | None = None) -> None:
        self.player = AlarmPlayer(parent)

    @property
    def problem(self) -> str | None:
        return self.player.problem

    def show(self, priority: Priority | None, paused: bool, escalated: bool) -> None:
        self.player.set_escalated(escalated)
        self.player.set_paused(paused)
        self.player.set_priority(priority)

    def silence(self) -> None:
        self.show(None, False, False)
