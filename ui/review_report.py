"""The handover report button's dialog: ward or one bed, the hours, the file; the same PDF as
`wardwatch report handover`, made on the review service's worker with its progress shown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.review.service import ReviewService
from wardwatch.ui.review_common import MIN_TOUCH_PX, connect_answer, failure_text


class _Progress(QObject):
    """Progress reported on the worker thread, delivered on the GUI thread (a queued signal)."""

    moved = Signal(int, int)


class HandoverDialog(QDialog):
    def __init__(
        self,
        service: ReviewService,
        now: Callable[[], float],
        folder: Path,
        bed: str | None = None,
        parent: QWidget | None = None,
        authorize: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__(parent)
        # the user action "report.handover" is checked when the report is asked for: the user's name,
        # or None when refused (the check itself tells the person why)
        self._authorize = authorize
        self.setWindowTitle("Handover report — WardWatch")
        self._service = service
        self._now = now
        self.result_path: Path | None = None
        self.which = QComboBox()
        self.which.addItem("The whole ward", None)
        for b, label in service.beds():
            self.which.addItem(label, b)
        self.which.setCurrentIndex(max(0, self.which.findData(bed)))
        self.hours = QDoubleSpinBox()
        self.hours.setRange(1.0, 72.0)
        self.hours.setValue(12.0)
        self.hours.setSuffix(" h")
        stamp = dt.datetime.fromtimestamp(now()).strftime("%Y%m%d-%H%M")
        self.path = QLineEdit(str(folder / f"handover-{stamp}.pdf"))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        self.make = QPushButton("Make report")
        self.make.setMinimumHeight(MIN_TOUCH_PX)
        self.make.setDefault(True)
        self.make.clicked.connect(self.start)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("The report holds patients' details: keep and share it as your ward requires.")
        self.status.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Beds", self.which)
        form.addRow("Period up to now", self.hours)
        form.addRow("File", file_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.make)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        self._moved = _Progress(self)
        self._moved.moved.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self._answer = connect_answer(self, self._done)
        self.resize(640, 240)

    def _browse(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save the handover report", self.path.text(), "PDF (*.pdf)"
        )
        if name:
            self.path.setText(name if name.lower().endswith(".pdf") else name + ".pdf")

    def start(self) -> None:
        """Make the report (the same user action as the command line's, on the service's worker)."""
        out = Path(self.path.text()).expanduser()
        if out.suffix.lower() != ".pdf":
            self.status.setText("The file must end in .pdf.")
            return
        bed = self.which.currentData()
        if self._authorize is not None and self._authorize(bed or "ward") is None:
            self.status.setText("Not permitted: making the handover report needs a permitted login.")
            return
        end = self._now()
        self.make.setEnabled(False)
        self.progress.setRange(0, 0)  # busy until the first bed is done
        self.status.setText("Reading the record…")
        future = self._service.handover(
            None if bed is None else [bed],
            end - self.hours.value() * 3600.0,
            end,
            out,
            self._moved.moved.emit,
        )
        self._answer.watch(future)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.status.setText("Writing the PDF…" if done == total - 1 else f"Bed {done} of {total - 1} read…")

    def _done(self, future: Future[Path]) -> None:
        self.make.setEnabled(True)
        try:
            self.result_path = future.result()
        except Exception as exc:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.status.setText(
                failure_text(exc)
                if not isinstance(exc, OSError)
                else f"Cannot write the file: {exc.strerror}"
            )
            return
        if self.progress.maximum() == 0:  # done before any progress came: no longer busy
            self.progress.setRange(0, 1)
        self.progress.setValue(self.progress.maximum())
        self.status.setText(f"Written to {self.result_path}")
