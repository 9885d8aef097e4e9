"""Main-window hooks of the device fleet (see wardwatch.ui.window_extensions): a Devices menu (asset
list, maintenance), the pump and glucose strip on every bed sector, and the fingerstick entry in each
bed's menu."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMessageBox
from wardwatch.app.fleet.fingerstick import enter_fingerstick
from wardwatch.app.security.actions import Action
from wardwatch.app.station import WardError
from wardwatch.ui.fleet_fingerstick import FingerstickDialog
from wardwatch.ui.fleet_tile import FleetStrip
from wardwatch.ui.fleet_views import AssetsDialog, MaintenanceDialog

if TYPE_CHECKING:
    from wardwatch.ui.main_window import MainWindow

STRIP_REFRESH_MS = 1000


def extend_window(window: MainWindow) -> None:
    menu = window.menuBar().addMenu("&Devices")
    views: dict[str, AssetsDialog | MaintenanceDialog] = {}

    def show(name: str) -> None:
        view = views.get(name)
        if view is None:
            kind = AssetsDialog if name == "assets" else MaintenanceDialog
            view = kind(window.station, window)
            views[name] = view
        view.show()
        view.raise_()

    for text, name in (("&Asset list…", "assets"), ("&Maintenance…", "maintenance")):
        action = QAction(text, window)
        action.triggered.connect(lambda _=False, n=name: show(n))
        menu.addAction(action)
    strips = [FleetStrip(tile, window.station) for tile in window.tiles]
    window.fleet_strips = strips  # type: ignore[attr-defined]  # for tests and the screenshot script
    timer = QTimer(window)
    timer.setInterval(STRIP_REFRESH_MS)

    def refresh() -> None:
        now = window.station.clock.now()
        for strip in strips:
            strip.refresh(now)

    timer.timeout.connect(refresh)
    timer.start()
    refresh()


def extend_bed_menu(window: MainWindow, menu: QMenu, bed_id: str) -> None:
    menu.addAction("Fingerstick glucose…", lambda: fingerstick_dialog(window, bed_id))


def fingerstick_dialog(window: MainWindow, bed_id: str) -> FingerstickDialog | None:
    """The nurse action `enter_fingerstick`, behind the station's one authorisation check."""
    if not window.permitted(Action.OBSERVATION, bed_id):
        return None
    station = window.station
    label = next((b.label for b in station.beds if b.bed_id == bed_id), bed_id)
    dialog = FingerstickDialog(label, window)

    def apply() -> None:
        value = dialog.mg_dl()
        user = window.authorized(Action.OBSERVATION, bed_id, after=f"fingerstick glucose {value:.0f} mg/dL")
        if user is None:
            return
        try:
            enter_fingerstick(station, bed_id, value, user)
        except (ValueError, WardError) as exc:
            QMessageBox.warning(window, "WardWatch", str(exc))

    dialog.accepted.connect(apply)
    dialog.open()
    return dialog
