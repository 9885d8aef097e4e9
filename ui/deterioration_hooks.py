"""Main-window hooks of this feature (see wardwatch.ui.window_extensions): the risk badge on every bed
tile, and in each bed's menu the risk's explanation and the entry of laboratory values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu, QMessageBox
from wardwatch.app.security.actions import Action
from wardwatch.ui.deterioration_widgets import LabsDialog, TileBadges, risk_service

if TYPE_CHECKING:
    from wardwatch.ui.main_window import MainWindow


def extend_window(window: MainWindow) -> None:
    service = risk_service(window.station.services)
    if service is None:
        return
    window.deterioration_badges = TileBadges(window.tiles, service, window)  # type: ignore[attr-defined]


def extend_bed_menu(window: MainWindow, menu: QMenu, bed_id: str) -> None:
    service = risk_service(window.station.services)
    if service is None:
        return
    menu.addSeparator()
    menu.addAction("Deterioration risk…", lambda: show_risk(window, bed_id))
    menu.addAction("Laboratory values for the risk…", lambda: labs_dialog(window, bed_id))


def show_risk(window: MainWindow, bed_id: str) -> None:
    service = risk_service(window.station.services)
    if service is None:
        return
    service.refresh(bed_id)
    risk = service.latest(bed_id)
    label = window.station.bed(bed_id).label
    if risk is None:
        text = (
            "No risk yet: it needs an hour of the bed's data. The bed view shows it as soon as there is one."
        )
    else:
        reasons = "\n".join(f"  • {f}" for f in risk.factors) or "  no single factor stands out"
        text = (
            f"Deterioration risk {risk.percent_text} {risk.arrow}\n\nRaised most by:\n{reasons}\n\n"
            f"{risk.note}\n\nAn advisory, not a diagnosis. WardWatch is not a certified medical device."
        )
    box = QMessageBox(QMessageBox.Icon.Information, f"Deterioration risk — {label}", text, parent=window)
    box.open()


def labs_dialog(window: MainWindow, bed_id: str) -> LabsDialog | None:
    service = risk_service(window.station.services)
    if service is None or not window.permitted(Action.OBSERVATION, bed_id):
        return None
    dialog = LabsDialog(window.station.bed(bed_id).label, window)

    def apply() -> None:
        user = window.authorized(Action.OBSERVATION, bed_id, after=dialog.summary())
        if user is None:
            return
        now = window.station.clock.now()
        service.set_labs(bed_id, dialog.values(), now)
        female = dialog.female()
        if female is not None:
            hours = service.hours(bed_id)
            service.set_demographics(bed_id, None if hours is None else hours.age, female)
        window.station.alarms.record_entry(bed_id, dialog.summary(), user)

    dialog.accepted.connect(apply)
    dialog.open()
    return dialog
