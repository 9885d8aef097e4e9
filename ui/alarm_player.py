"""Plays the burst of the highest sounding priority on its repeat interval, with QtMultimedia.

The tones are synthesised once at start into WAV files in a private temporary folder (the only file
I/O, before the first frame). A new alarm of higher priority restarts the burst at once; an escalated
high alarm repeats twice as often at full volume. Without an audio output (a PC with no sound card,
CI) nothing can sound: `problem` says so in words for the screen, and `burst_started` still fires so
that the rest of the station, its tests and the latency bench behave the same.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from wardwatch.app.alarms.model import Priority
from wardwatch.app.alarms.tone_patterns import TonePattern, load_patterns, synthesise, to_wav_bytes

log = logging.getLogger(__name__)

NORMAL_VOLUME = 0.7
ESCALATED_VOLUME = 1.0


def _audio_problem() -> str | None:
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError:
        return "QtMultimedia is not available: alarms are shown but not sounded"
    if not QMediaDevices.audioOutputs():
        return "No audio output device: alarms are shown but not sounded"
    return None


class AlarmPlayer(QObject):
    burst_started = Signal(str)  # the priority word, each time a burst starts (or would, without sound)

    def __init__(
        self, parent: QObject | None = None, patterns: dict[Priority, TonePattern] | None = None
    ) -> None:
        super().__init__(parent)
        self.patterns = patterns or load_patterns()
        self.problem = _audio_problem()
        self.available = self.problem is None
        self.priority: Priority | None = None
        self.paused = False
        self.escalated = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._burst)
        self._effects: dict[Priority, QObject] = {}
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        if self.available:
            self._load_effects()

    def _load_effects(self) -> None:
        from PySide6.QtMultimedia import QSoundEffect

        self._folder = tempfile.TemporaryDirectory(prefix="wardwatch-tones-")
        for priority, pattern in self.patterns.items():
            path = Path(self._folder.name) / f"{priority.word}.wav"
            path.write_bytes(to_wav_bytes(synthesise(pattern)))
            effect = QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(str(path)))
            effect.setVolume(NORMAL_VOLUME)
            self._effects[priority] = effect

    def set_priority(self, priority: Priority | None) -> None:
        if priority == self.priority:
            return
        rising = priority is not None and (self.priority is None or priority > self.priority)
        self.priority = priority
        if priority is None or self.paused:
            self._stop()
        elif rising or not self._timer.isActive():
            self._burst()  # a more urgent alarm breaks in at once
        # a lower priority waits for the running repeat interval to end

    def set_paused(self, paused: bool) -> None:
        if paused == self.paused:
            return
        self.paused = paused
        if paused:
            self._stop()
        elif self.priority is not None:
            self._burst()

    def set_escalated(self, escalated: bool) -> None:
        self.escalated = escalated

    def _stop(self) -> None:
        self._timer.stop()
        for effect in self._effects.values():
            effect.stop()  # type: ignore[attr-defined]

    def _burst(self) -> None:
        priority = self.priority
        if priority is None or self.paused:
            return
        pattern = self.patterns[priority]
        effect = self._effects.get(priority)
        if effect is not None:
            for other in self._effects.values():
                if other is not effect:
                    other.stop()  # type: ignore[attr-defined]
            loud = self.escalated and priority is Priority.HIGH
            effect.setVolume(ESCALATED_VOLUME if loud else NORMAL_VOLUME)  # type: ignore[attr-defined]
            effect.play()  # type: ignore[attr-defined]
        self.burst_started.emit(priority.word)
        repeat = pattern.repeat_escalated_s if self.escalated else pattern.repeat_s
        self._timer.start(round(max(repeat, pattern.burst_s) * 1000))
