"""Main-window hooks of the interfaces (see wardwatch.ui.window_extensions): the Interfaces menu with
its admin dialog, and the tiles following admissions that arrive by HL7 ADT.

The window refreshes its tiles after its own ward actions; an ADT applied on the interface's thread
bumps the service's `ward_version`, which a one-second timer here compares (memory only) to refresh them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox
from wardwatch.app.interop.service import InteropService
from wardwatch.app.security.actions import Action
from wardwatch.ui.interop_dialog import InteropDialog

if TYPE_CHECKING:
    from wardwatch.ui.main_window import MainWindow

WARD_CHECK_MS = 1000
TARGET = "interfaces"


def interop_service(window: MainWindow) -> InteropService | None:
    service = window.station.services.get("interop")
    return service if isinstance(service, InteropService) else None


def open_dialog(window: MainWindow) -> InteropDialog | None:
    service = interop_service(window)
    if service is None:
        QMessageBox.information(
            window,
            "Interfaces",
            "The interfaces are off: they keep their queue in the encrypted record, and this station "
            "is not recording.",
        )
        return None
    if not window.permitted(Action.INTEROP_SETTINGS, TARGET):
        return None  # refused: audited and told by the station's one check

    def authorize(before: str, after: str) -> str | None:
        return window.authorized(Action.INTEROP_SETTINGS, TARGET, before=before, after=after)

    dialog = InteropDialog(service, authorize, window)
    dialog.show()
    return dialog


def extend_window(window: MainWindow) -> None:
    menu = window.menuBar().addMenu("&Interfaces")
    action = QAction("HL7 and &FHIR interfaces…", window)
    action.triggered.connect(lambda _=False: open_dialog(window))
    menu.addAction(action)
    seen = [0]

    def follow_adt() -> None:
        service = interop_service(window)
        if service is not None and service.ward_version != seen[0]:
            seen[0] = service.ward_version
            window.refresh_beds()

    timer = QTimer(window)
    timer.timeout.connect(follow_adt)
    timer.start(WARD_CHECK_MS)
