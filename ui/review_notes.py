"""The bed view's notes: what nurses wrote on this bed's patient, and a line to add one.

The list paints from the bed in memory (`Bed.notes`, kept by `add_note`), so it needs no query; adding
goes through `wardwatch.app.review.notes.add_note` (the user action), which records the note in the
encrypted record with its author and time. The panel says when the record has it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QListWidget, QPushButton, QVBoxLayout, QWidget
from wardwatch.app.alarms.engine import STATION_USER
from wardwatch.app.review.notes import MAX_NOTE_CHARS, NoteError, add_note
from wardwatch.app.station import Station, WardError
from wardwatch.ui.review_common import MIN_TOUCH_PX, connect_answer

REVIEW_SERVICE = "review"  # see wardwatch.app.review.cli
# bed id -> who may write a note there now, or None when refused (the window's authorisation check)
NOTE_AUTHOR = "review.note_author"
REFRESH_MS = 1000


class NotesPanel(QWidget):
    def __init__(self, station: Station, bed_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.station = station
        self.bed_id = bed_id
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setMaximumHeight(80)  # a shift's few notes; the trends below need the room
        self.edit = QLineEdit()
        self.edit.setMaxLength(MAX_NOTE_CHARS)
        self.edit.setPlaceholderText("A note for the handover (kept in the record with your name)")
        self.edit.returnPressed.connect(self.add)
        self.button = QPushButton("Add &note")
        self.button.setMinimumHeight(MIN_TOUCH_PX)
        self.button.clicked.connect(self.add)
        self.status = QLabel("")
        row = QHBoxLayout()
        row.addWidget(self.edit, 1)
        row.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(QLabel("Notes"))
        layout.addWidget(self.list)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self._answer = connect_answer(self, self._recorded)
        self._shown: list[str] = []
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(REFRESH_MS)
        self.refresh()

    def _author(self) -> str | None:
        check: Callable[[str], str | None] | None = self.station.services.get(NOTE_AUTHOR)  # type: ignore[assignment]
        return check(self.bed_id) if check is not None else STATION_USER

    def refresh(self) -> None:
        try:
            notes = list(self.station.bed(self.bed_id).notes)
        except WardError:
            notes = []
        if notes != self._shown:
            self._shown = notes
            self.list.clear()
            self.list.addItems(notes)
            self.list.scrollToBottom()

    def add(self) -> None:
        service = self.station.services.get(REVIEW_SERVICE)
        put = getattr(service, "put_critical", None)
        if not self.edit.text().strip():
            self.status.setText("the note is empty")
            return
        author = self._author()
        if author is None:  # refused: the check has told the person why (or asked them to log in)
            self.status.setText("Not permitted: adding a note needs a permitted login.")
            return
        try:
            future = add_note(self.station, put, self.bed_id, author, self.edit.text())
        except (NoteError, WardError) as exc:
            self.status.setText(str(exc))
            return
        self.edit.clear()
        self.status.setText("Saving…")
        self.refresh()
        self._answer.watch(future)

    def _recorded(self, future: Future[None]) -> None:
        try:
            future.result()
        except Exception:
            self.status.setText("The note is shown here but the record could not keep it yet.")
            return
        self.status.setText("Kept in the record.")
