"""The alarms window: every active alarm and every held-back one, each with its reasoning in words."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.alarms.display import clock_text, state_text
from wardwatch.app.alarms.model import Alarm, AlarmSnapshot, State
from wardwatch.ui.record_history import JournalQuery, RecordHistory

COLUMNS = ("Bed", "Alarm", "Priority", "Condition since", "Raised", "State")


def reasoning_html(alarm: Alarm, bed_label: str) -> str:
    """The alarm's reasoning: what was seen, why it sounds or was held back, and the numbers."""
    rows = [
        f"<h3>{bed_label}: {alarm.banner()}</h3>",
        f"<p><b>Category:</b> {alarm.category.value} &nbsp; <b>Priority:</b> {alarm.priority.word}"
        f" &nbsp; <b>State:</b> {alarm.state.value.replace('_', ' ')}</p>",
        f"<p><b>Condition since:</b> {clock_text(alarm.condition_since)} &nbsp; "
        f"<b>{'Held back' if alarm.state is State.HELD_BACK else 'Raised'} at:</b>"
        f" {clock_text(alarm.raised_at)}</p>",
    ]
    if alarm.acknowledged_at is not None:
        rows.append(
            f"<p><b>Acknowledged</b> by {alarm.acknowledged_by} at {clock_text(alarm.acknowledged_at)}</p>"
        )
    if alarm.escalated_at is not None:
        rows.append(f"<p><b>Escalated</b> at {clock_text(alarm.escalated_at)} (not acknowledged in time)</p>")
    if alarm.reason:
        rows.append(f"<p><b>Reasoning:</b> {alarm.reason}</p>")
    if alarm.state is State.HELD_BACK:
        rows.append(
            "<p><i>Held back as probably false. It stays under watch: any sign that it is true raises"
            " it at once. Check the patient if in doubt.</i></p>"
        )
    if alarm.evidence:
        items = "".join(
            f"<tr><td>{k}</td><td align=right>{v:.3g}</td></tr>" for k, v in alarm.evidence.items()
        )
        rows.append(f"<p><b>Evidence</b></p><table cellspacing=4>{items}</table>")
    return "".join(rows)


class AlarmsDialog(QDialog):
    def __init__(
        self,
        snapshot: Callable[[], AlarmSnapshot],
        labels: Callable[[], Mapping[str, str]],
        acknowledge: Callable[[int], None],
        open_bed: Callable[[str], None],
        parent: QWidget | None = None,
        history: JournalQuery | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Alarms")
        self.resize(980, 620)
        self._snapshot = snapshot
        self._labels = labels
        self._acknowledge = acknowledge
        self._open_bed = open_bed
        self.tabs = QTabWidget()
        self.active = self._table()
        self.held = self._table()
        self.tabs.addTab(self.active, "Active")
        self.tabs.addTab(self.held, "Held back")
        self.history: RecordHistory | None = None
        if history is not None:
            self.history = RecordHistory(history, lambda: dict(labels()))
            self.tabs.addTab(self.history, "History (24 h, from the record)")
        self.reason = QTextBrowser()
        self.reason.setMinimumHeight(170)
        self.ack_button = QPushButton("Acknowledge selected")
        self.open_button = QPushButton("Open bed")
        self.ack_button.clicked.connect(self._ack_selected)
        self.open_button.clicked.connect(self._open_selected)
        actions = QHBoxLayout()
        actions.addWidget(self.ack_button)
        actions.addWidget(self.open_button)
        actions.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        actions.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(QLabel("Reasoning"))
        layout.addWidget(self.reason)
        layout.addLayout(actions)
        self._rows: dict[QTableWidget, list[Alarm]] = {self.active: [], self.held: []}
        self._version = -1
        self.tabs.currentChanged.connect(lambda _i: self._show_reason())
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(1000)
        self.refresh()

    def _table(self) -> QTableWidget:
        table = QTableWidget(0, len(COLUMNS))
        table.setHorizontalHeaderLabels(COLUMNS)
        table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.verticalHeader().setVisible(False)
        table.itemSelectionChanged.connect(self._show_reason)
        table.cellDoubleClicked.connect(lambda _r, _c: self._open_selected())
        return table

    def refresh(self) -> None:
        snap = self._snapshot()
        if snap.version == self._version:
            return
        self._version = snap.version
        labels = self._labels()
        self._fill(self.active, list(snap.alarms), labels)
        self._fill(self.held, list(snap.held_back), labels)
        self.tabs.setTabText(0, f"Active ({len(snap.alarms)})")
        held_now = sum(1 for a in snap.held_back if a.state is State.HELD_BACK)
        self.tabs.setTabText(1, f"Held back ({held_now} now, {len(snap.held_back)} listed)")

    def _fill(self, table: QTableWidget, alarms: list[Alarm], labels: Mapping[str, str]) -> None:
        selected = self.selected(table)
        self._rows[table] = alarms
        table.setRowCount(len(alarms))
        for row, a in enumerate(alarms):
            cells = (
                labels.get(a.bed, a.bed),
                a.banner(),
                a.priority.word,
                clock_text(a.condition_since),
                clock_text(a.raised_at),
                state_text(a) or a.state.value,
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, a.alarm_id)
                table.setItem(row, col, item)
            if selected is not None and a.alarm_id == selected.alarm_id:
                table.selectRow(row)
        table.resizeColumnsToContents()

    def selected(self, table: QTableWidget | None = None) -> Alarm | None:
        table = table or self.current_table()
        rows = table.selectionModel().selectedRows() if table.selectionModel() else []
        alarms = self._rows.get(table, [])
        return alarms[rows[0].row()] if rows and rows[0].row() < len(alarms) else None

    def current_table(self) -> QTableWidget:
        return self.held if self.tabs.currentIndex() == 1 else self.active

    def select(self, alarm_id: int) -> bool:
        """Show one alarm (active or held back) with its reasoning."""
        for index, table in ((0, self.active), (1, self.held)):
            for row, a in enumerate(self._rows[table]):
                if a.alarm_id == alarm_id:
                    self.tabs.setCurrentIndex(index)
                    table.selectRow(row)
                    self._show_reason()
                    return True
        return False

    def show_held_back(self) -> None:
        self.tabs.setCurrentIndex(1)

    def _show_reason(self) -> None:
        alarm = self.selected()
        if alarm is None:
            self.reason.setHtml("<p>Select an alarm to see its reasoning.</p>")
            return
        self.reason.setHtml(reasoning_html(alarm, self._labels().get(alarm.bed, alarm.bed)))

    def _ack_selected(self) -> None:
        alarm = self.selected()
        if alarm is not None:
            self._acknowledge(alarm.alarm_id)
            self.refresh()

    def _open_selected(self) -> None:
        alarm = self.selected()
        if alarm is not None:
            self._open_bed(alarm.bed)
