"""What the review screens share: the spans a nurse picks from, the bridge that brings a worker's
answer back to the GUI thread, and the alarm-priority colours of the time lines."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QPushButton, QWidget
from wardwatch.ui.theme import theme

SPANS_H: tuple[int, ...] = (1, 4, 8, 12, 24, 72)
MIN_TOUCH_PX = 36


class Answer(QObject):
    """Turns a Future completed on a worker thread into `done(future)` on the GUI thread."""

    done = Signal(object)

    def watch(self, future: Future[Any]) -> None:
        future.add_done_callback(self._deliver)

    def _deliver(self, future: Future[Any]) -> None:
        with contextlib.suppress(RuntimeError):  # the screen was closed before the record answered
            self.done.emit(future)


def priority_colour(priority: str, held_back: bool = False) -> QColor:
    t = theme()
    if held_back:
        return t.colour("alarm", "held_fg")
    return t.colour("alarm", {"high": "high_bg", "medium": "medium_bg"}.get(priority, "low_bg"))


def priority_text_colour(priority: str, held_back: bool = False) -> QColor:
    """The text colour that goes on `priority_colour`, as the alarm bar pairs them."""
    t = theme()
    if held_back:
        return t.colour("alarm", "held_bg")
    return t.colour("alarm", {"high": "high_fg", "medium": "medium_fg"}.get(priority, "low_fg"))


def failure_text(exc: BaseException) -> str:
    """What a screen says when the record could not answer (never the record's own message, which may
    name a path or quote data)."""
    return f"The record could not be read ({type(exc).__name__}); the station goes on monitoring."


class SpanButtons(QWidget):
    """1/4/8/12/24/72 h as one row of large toggle buttons; `changed(hours)` when one is picked."""

    changed = Signal(int)

    def __init__(
        self, hours: int = 12, spans: tuple[int, ...] = SPANS_H, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Period:"))
        self._group = QButtonGroup(self)
        self.buttons: dict[int, QPushButton] = {}
        for h in spans:
            button = QPushButton(f"{h} h")
            button.setCheckable(True)
            button.setMinimumHeight(MIN_TOUCH_PX)
            button.setChecked(h == hours)
            self._group.addButton(button, h)
            row.addWidget(button)
            self.buttons[h] = button
        self._group.idClicked.connect(self.changed.emit)

    @property
    def hours(self) -> int:
        return self._group.checkedId()


def connect_answer(parent: QObject, slot: Callable[[Future[Any]], None]) -> Answer:
    answer = Answer(parent)
    answer.done.connect(slot)
    return answer
