"""The alarm bar across the top of the central station: the ward's active alarms, most urgent first,
with acknowledge, audio pause and the held-back list one keystroke or one large button away."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget
from wardwatch.app.alarms.display import clock_text, flash_on, pause_text, state_text
from wardwatch.app.alarms.model import EMPTY_SNAPSHOT, Alarm, AlarmSnapshot, Category, Priority, State
from wardwatch.ui.theme import Theme, theme

ROWS = 3
ROW_H = 30
INFO_W = 48  # the "why" target at the end of each row: ≥ 9 mm on a touch screen


def alarm_colours(t: Theme, alarm: Alarm, lit: bool) -> tuple[QColor, QColor]:
    """Background and text colour of one alarm line in its current flash phase."""
    if alarm.category is Category.TECHNICAL and alarm.priority is not Priority.HIGH:
        return t.colour("state", "technical_bg"), t.colour("state", "technical_fg")
    key = alarm.priority.word
    if alarm.state is State.ACKNOWLEDGED:
        return t.colour("alarm", "off_bg"), t.colour("alarm", f"{key}_bg")
    if lit:
        return t.colour("alarm", f"{key}_bg"), t.colour("alarm", f"{key}_fg")
    return t.colour("alarm", "off_bg"), t.colour("alarm", f"{key}_bg")


class AlarmLines(QWidget):
    """The painted list of the most urgent alarms: a click opens the bed, the "why" end its reasoning."""

    bedClicked = Signal(str)
    reasonClicked = Signal(int)
    painted = Signal()  # after each repaint: lets the latency bench see the banner reach the screen

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme()
        self.snapshot = EMPTY_SNAPSHOT
        self.labels: Mapping[str, str] = {}
        self.now = 0.0
        self._lit: tuple[bool, ...] = ()
        self.setMinimumHeight(ROWS * ROW_H)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def sizeHint(self) -> QSize:
        return QSize(800, ROWS * ROW_H)

    def shown(self) -> tuple[Alarm, ...]:
        return self.snapshot.alarms[:ROWS]

    def update_state(self, snapshot: AlarmSnapshot, labels: Mapping[str, str], now: float) -> None:
        """Repaint only when what is shown or a flash phase changes (the bar is on every frame)."""
        lit = tuple(flash_on(a.priority, now, a.state is State.ACKNOWLEDGED) for a in snapshot.alarms[:ROWS])
        changed = snapshot.version != self.snapshot.version or lit != self._lit or labels is not self.labels
        self.snapshot, self.labels, self.now, self._lit = snapshot, labels, now, lit
        if changed:
            self.update()

    def row_rect(self, i: int) -> QRect:
        return QRect(0, i * ROW_H, self.width(), ROW_H - 2)

    def paintEvent(self, event: QPaintEvent) -> None:
        t = self._theme
        p = QPainter(self)
        p.fillRect(self.rect(), t.colour("background", "header"))
        font = QFont(self.font())
        font.setPixelSize(int(ROW_H * 0.6))
        font.setBold(True)
        p.setFont(font)
        fm = QFontMetrics(font)
        alarms = self.shown()
        if not alarms:
            p.setPen(t.colour("text", "dim"))
            p.drawText(self.rect().adjusted(10, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, "No active alarms")
        for i, alarm in enumerate(alarms):
            r = self.row_rect(i)
            lit = self._lit[i] if i < len(self._lit) else True
            bg, fg = alarm_colours(t, alarm, lit)
            p.fillRect(r, bg)
            p.setPen(fg)
            bed = self.labels.get(alarm.bed, alarm.bed)
            left = f"{bed}   {alarm.banner()}"
            right = f"{clock_text(alarm.raised_at)}   {state_text(alarm)}".rstrip()
            rw = fm.horizontalAdvance(right)
            text_rect = r.adjusted(10, 0, -(INFO_W + 12 + rw), 0)
            p.drawText(
                text_rect,
                Qt.AlignmentFlag.AlignVCenter,
                fm.elidedText(left, Qt.TextElideMode.ElideRight, text_rect.width()),
            )
            p.drawText(
                r.adjusted(0, 0, -(INFO_W + 8), 0),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                right,
            )
            info = QRect(r.right() - INFO_W, r.top(), INFO_W, r.height())
            p.drawText(info, Qt.AlignmentFlag.AlignCenter, "why")
        p.end()
        self.painted.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        i = int(event.position().y()) // ROW_H
        alarms = self.shown()
        if 0 <= i < len(alarms):
            if event.position().x() >= self.width() - INFO_W - 4:
                self.reasonClicked.emit(alarms[i].alarm_id)
            else:
                self.bedClicked.emit(alarms[i].bed)
        event.accept()


class AlarmBar(QWidget):
    """Alarm lines plus the actions: acknowledge (F2), audio pause (F3), all alarms and held back (F4)."""

    acknowledgeRequested = Signal()
    pauseRequested = Signal()
    listRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alarmBar")
        self.lines = AlarmLines(self)
        self.ack_button = QPushButton("Acknowledge\n(F2)")
        self.pause_button = QPushButton("Audio pause\n(F3)")
        self.list_button = QPushButton("Alarms · held back\n(F4)")
        for button in (self.ack_button, self.pause_button, self.list_button):
            button.setMinimumSize(150, ROWS * ROW_H // 2 + 8)
            button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the station, not a button
        self.ack_button.clicked.connect(self.acknowledgeRequested)
        self.pause_button.clicked.connect(self.pauseRequested)
        self.list_button.clicked.connect(self.listRequested)
        buttons = QVBoxLayout()
        buttons.setSpacing(2)
        buttons.addWidget(self.ack_button)
        buttons.addWidget(self.pause_button)
        side = QVBoxLayout()
        side.setSpacing(2)
        side.addWidget(self.list_button)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(4)
        layout.addWidget(self.lines, 1)
        layout.addLayout(buttons)
        layout.addLayout(side)
        self._pause_label = ""

    def update_state(
        self,
        snapshot: AlarmSnapshot,
        labels: Mapping[str, str],
        now: float,
        sound_problem: str | None = None,
    ) -> None:
        self.lines.update_state(snapshot, labels, now)
        held = sum(1 for a in snapshot.held_back if a.state is State.HELD_BACK)
        more = max(0, len(snapshot.alarms) - ROWS)
        label = f"Alarms{f' (+{more})' if more else ''}\nheld back: {held} (F4)"
        if label != self.list_button.text():
            self.list_button.setText(label)
        pause = snapshot.pause
        text = pause_text(pause.remaining(now)) + "\n(F3 resume)" if pause else "Audio pause\n(F3)"
        if sound_problem:
            text = "NO SOUND\n" + text.split("\n")[0]
        if text != self._pause_label:
            self._pause_label = text
            self.pause_button.setText(text)
            self.pause_button.setToolTip(sound_problem or "")
