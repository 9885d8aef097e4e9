"""The deterioration risk on screen: a badge on each bed tile, a panel in the bed view, and the dialog for
laboratory values and sex. Everything paints from the risk service's memory; nothing here computes a
risk or touches a file (the service's worker does both)."""

from __future__ import annotations

from collections.abc import Mapping

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.deterioration.columns import WORDS
from wardwatch.app.deterioration.service import SERVICE_NAME, BedRisk, RiskService
from wardwatch.ui.theme import theme
from wardwatch.ui.tile import BedTile, tile_layout

REFRESH_MS = 2000
# The laboratory values a ward most often has that move the risk most (the rest still count if an
# interface delivers them).
LAB_FIELDS: tuple[str, ...] = (
    "Lactate",
    "WBC",
    "Creatinine",
    "BUN",
    "Platelets",
    "Bilirubin_total",
    "HCO3",
    "pH",
    "Glucose",
    "Hgb",
)


def risk_service(services: Mapping[str, object]) -> RiskService | None:
    service = services.get(SERVICE_NAME)
    return service if isinstance(service, RiskService) else None


def badge_text(risk: BedRisk | None) -> str:
    """ "Risk 12 % ↑" (or "" when the bed has no risk yet)."""
    if risk is None:
        return ""
    return f"Risk {risk.percent_text} {risk.arrow}".rstrip()


class RiskBadge(QLabel):
    """A small label in the upper right corner of a bed tile's numerics."""

    def __init__(self, tile: BedTile) -> None:
        super().__init__(tile)
        self._tile = tile
        self._key: tuple[str, bool] = ("", False)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.hide()
        tile.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._tile and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        # the top right of the numerics, level with the first parameter's small label: the big values
        # sit lower, so the badge never covers a number
        area = tile_layout(self._tile.size()).numerics
        font = self.font()
        font.setPixelSize(max(9, min(13, area.height() // 28)))
        self.setFont(font)
        self.adjustSize()
        w, h = self.sizeHint().width() + 6, self.sizeHint().height()
        self.setGeometry(area.right() - w - 2, area.top() + 2, w, h)

    def show_risk(self, risk: BedRisk | None) -> None:
        text = badge_text(risk)
        alert = bool(risk and risk.alert)
        if (text, alert) == self._key:
            return
        self._key = (text, alert)
        if not text:
            self.hide()
            return
        t = theme()
        if alert:  # the low-priority alarm colours: an advisory, steady, never flashing
            bg, fg = t.colour("alarm", "low_bg").name(), t.colour("alarm", "low_fg").name()
            style = f"background: {bg}; color: {fg};"
        else:
            style = f"color: {t.colour('text', 'dim').name()};"
        self.setStyleSheet(f"QLabel {{ {style} padding: 0 3px; }}")
        self.setText(text)
        self.setToolTip("Predicted deterioration risk (advisory; see the bed view)")
        self._place()
        self.show()


class TileBadges(QObject):
    """Keeps every tile's badge current from the service's memory."""

    def __init__(self, tiles: list[BedTile], service: RiskService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self.badges = {tile.bed.bed_id: RiskBadge(tile) for tile in tiles}
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(REFRESH_MS)
        self.refresh()

    def refresh(self) -> None:
        for bed_id, badge in self.badges.items():
            badge.show_risk(self._service.latest(bed_id))


class DeteriorationPanel(QFrame):
    """The bed view's risk: value and trend, its reasons in words, what it means, and its last hours."""

    def __init__(self, services: Mapping[str, object], bed_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = risk_service(services)
        self._bed = bed_id
        self._shown: BedRisk | None = None
        t = theme()
        self.setStyleSheet(f"QFrame {{ color: {t.colour('text', 'normal').name()}; }}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        top = QHBoxLayout()
        self.value_label = QLabel("Deterioration risk: —")
        font = self.value_label.font()
        font.setBold(True)
        self.value_label.setFont(font)
        top.addWidget(self.value_label, 1)
        self.refresh_button = QPushButton("Update now")
        self.refresh_button.setToolTip("Compute the risk now, including the hour under way")
        self.refresh_button.clicked.connect(self.update_now)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)
        self.reasons_label = QLabel("")
        self.reasons_label.setWordWrap(True)
        layout.addWidget(self.reasons_label)
        self.note_label = QLabel("")
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet(f"color: {t.colour('text', 'dim').name()};")
        layout.addWidget(self.note_label)
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.plot.setBackground(t.colour("background", "tile"))
        self.plot.setFixedHeight(90)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.getAxis("left").setWidth(40)
        self.curve = self.plot.plot(
            [], [], pen=pg.mkPen(t.colour("text", "normal"), width=1.5), symbol="o", symbolSize=4
        )
        self.threshold_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen(t.colour("alarm", "low_bg"), width=1, style=Qt.PenStyle.DashLine)
        )
        self.plot.addItem(self.threshold_line)
        layout.addWidget(self.plot)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(REFRESH_MS)
        if self._service is None:
            self.value_label.setText("Deterioration risk: off")
            self.refresh_button.setEnabled(False)
        self.refresh()

    def update_now(self) -> None:
        if self._service is not None:
            self._service.refresh(self._bed)

    def refresh(self) -> None:
        service = self._service
        if service is None:
            return
        if service.fault is not None:
            self.value_label.setText(f"Deterioration risk unavailable: {service.fault}")
            return
        risk = service.latest(self._bed)
        if risk is self._shown:
            return
        self._shown = risk
        if risk is None:
            self.value_label.setText("Deterioration risk: not yet (needs an hour of data)")
            self.reasons_label.setText("")
            self.note_label.setText("")
            self.curve.setData([], [])
            return
        flag = "  — above threshold (advisory)" if risk.alert else ""
        self.value_label.setText(f"Deterioration risk {risk.percent_text} {risk.arrow}{flag}")
        reasons = "; ".join(risk.factors) if risk.factors else "no single factor stands out"
        self.reasons_label.setText(f"Raised most by: {reasons}")
        self.note_label.setText(
            f"{risk.note} Based on {risk.hours} h of data. Advisory, not a diagnosis; "
            "not a certified medical device."
        )
        times = [t for t, _ in risk.history]
        values = [r * 100.0 for _, r in risk.history]
        self.curve.setData(times, values)
        self.threshold_line.setPos(service.threshold * 100.0)
        top = max([*values, service.threshold * 100.0]) * 1.2
        self.plot.setYRange(0, max(top, 5.0), padding=0)


class LabsDialog(QDialog):
    """Laboratory values a nurse enters for the risk (taken now), and the patient's sex when known."""

    def __init__(self, bed_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Laboratory values for the deterioration risk — {bed_label}")
        form = QFormLayout(self)
        self.fields: dict[str, QLineEdit] = {}
        for name in LAB_FIELDS:
            word, unit = WORDS[name]
            edit = QLineEdit()
            edit.setValidator(QDoubleValidator(-1e6, 1e6, 3, edit))
            edit.setPlaceholderText("not measured")
            self.fields[name] = edit
            form.addRow(f"{word} ({unit})" if unit else word, edit)
        self.sex = QComboBox()
        for text, value in (("not entered", None), ("female", True), ("male", False)):
            self.sex.addItem(text, value)
        form.addRow("Sex", self.sex)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, edit in self.fields.items():
            text = edit.text().strip().replace(",", ".")
            if text:
                try:
                    out[name] = float(text)
                except ValueError:
                    continue  # the validator lets only numbers through; an odd locale's text is skipped
        return out

    def female(self) -> bool | None:
        value = self.sex.currentData()
        return None if value is None else bool(value)

    def summary(self) -> str:
        """For the journal: which values were entered, not the values (nothing that names the patient)."""
        names = [WORDS[n][0] for n in self.values()]
        return (
            "deterioration labs: "
            + (", ".join(names) if names else "none")
            + ("" if self.female() is None else ", sex")
        )
