"""Main-window hooks of hospital-wide sharing (see wardwatch.ui.window_extensions): a Hospital menu with
the hospital page (other stations' beds, read-only) and the rapid-response overview, enabled when the
station has a broker configured (the viewer service, wardwatch.app.hospital.viewer)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from wardwatch.app.hospital.viewer import HospitalViewer
    from wardwatch.ui.hospital_window import HospitalWindow
    from wardwatch.ui.main_window import MainWindow

# the viewer's name in station.services (wardwatch.app.hospital.viewer.SERVICE_NAME); looked up by name
# so that a station without a broker never loads the MQTT client
VIEWER_SERVICE = "hospital_viewer"

NOT_CONFIGURED = "No hospital broker is configured: set [mqtt] url in the config or start with --mqtt URL."


class HospitalMenu:
    """The menu and the one hospital window it opens (made on first use, kept while the station runs)."""

    def __init__(self, window: MainWindow, viewer: HospitalViewer | None) -> None:
        self.window = window
        self.viewer = viewer
        self.hospital: HospitalWindow | None = None
        menu = window.menuBar().addMenu("Hos&pital")
        self.page_action = QAction("&Hospital page", window)
        self.rapid_action = QAction("&Rapid response", window)
        self.page_action.triggered.connect(lambda _=False: self.open_page())
        self.rapid_action.triggered.connect(lambda _=False: self.open_rapid())
        for action in (self.page_action, self.rapid_action):
            action.setEnabled(viewer is not None)
            action.setToolTip("" if viewer is not None else NOT_CONFIGURED)
            menu.addAction(action)
        menu.setToolTipsVisible(True)
        self.menu = menu

    def open_page(self) -> HospitalWindow | None:
        if self.viewer is None:
            return None
        if self.hospital is None:
            from wardwatch.ui.hospital_window import HospitalWindow

            self.viewer.start()  # connects in the background: nothing here waits for the network
            w = self.window
            # a child window of the station's: it closes with it, and never keeps the program running alone
            self.hospital = HospitalWindow(
                self.viewer, w.access, w.security, authorize=w.authorized, parent=w
            )
            self.hospital.on_refused = w.on_refused
        self.hospital.show()
        self.hospital.raise_()
        return self.hospital

    def open_rapid(self) -> QWidget | None:
        page = self.open_page()
        return None if page is None else page.open_rapid_response()


def extend_window(window: MainWindow) -> None:
    viewer = window.station.services.get(VIEWER_SERVICE)
    window.hospital_menu = HospitalMenu(window, viewer)  # type: ignore[arg-type, attr-defined]
