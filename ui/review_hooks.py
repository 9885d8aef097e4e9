"""Main-window hooks of this feature (see wardwatch.ui.window_extensions): a Review menu (trend
review, alarm review, alarm burden, handover report) and the same per bed in the bed's menu."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget
from wardwatch.app.review.service import ReviewService
from wardwatch.app.security.actions import Action
from wardwatch.ui.review_alarms import AlarmReview
from wardwatch.ui.review_burden import BurdenDashboard
from wardwatch.ui.review_notes import NOTE_AUTHOR, REVIEW_SERVICE
from wardwatch.ui.review_report import HandoverDialog
from wardwatch.ui.review_trends import TrendReview

if TYPE_CHECKING:
    from wardwatch.ui.main_window import MainWindow

NOT_RECORDING = "The station is not recording, so there is no record to review."


def _service(window: MainWindow) -> ReviewService | None:
    service = window.station.services.get(REVIEW_SERVICE)
    if not isinstance(service, ReviewService):
        QMessageBox.information(window, "WardWatch", NOT_RECORDING)
        return None
    return service


def _keep(window: MainWindow, view: QWidget) -> QWidget:
    view.show()
    view.raise_()
    return view


def _may_review(window: MainWindow, target: str) -> bool:
    # opening a patient's record is audited as well as checked: who looked at whom, and when
    return window.authorized(Action.REVIEW, target) is not None


def open_trends(window: MainWindow, bed: str | None = None) -> TrendReview | None:
    service = _service(window)
    if service is None or not _may_review(window, bed or "ward"):
        return None
    beds = [bed] if bed else [window.station.beds[0].bed_id]
    view = TrendReview(service, window.station.clock.now, beds, parent=window)
    _keep(window, view)
    return view


def open_alarms(window: MainWindow, bed: str | None = None) -> AlarmReview | None:
    service = _service(window)
    if service is None or not _may_review(window, bed or "ward"):
        return None
    view = AlarmReview(service, window.station.clock.now, bed, parent=window)
    _keep(window, view)
    return view


def open_burden(window: MainWindow) -> BurdenDashboard | None:
    service = _service(window)
    if service is None or not _may_review(window, "ward"):
        return None
    view = BurdenDashboard(service, window.station.clock.now, parent=window)
    _keep(window, view)
    return view


def open_handover(window: MainWindow, bed: str | None = None) -> HandoverDialog | None:
    service = _service(window)
    if service is None:
        return None
    if not window.permitted(Action.HANDOVER, bed or "ward"):
        return None
    dialog = HandoverDialog(
        service,
        window.station.clock.now,
        service.reports_dir,
        bed,
        window,
        authorize=lambda target: window.authorized(Action.HANDOVER, target),
    )
    dialog.show()
    return dialog


def extend_window(window: MainWindow) -> None:
    # a note is the user action "note.add": the window's one check says who writes it, or refuses
    window.station.services[NOTE_AUTHOR] = lambda bed_id: window.authorized(Action.NOTE, bed_id)
    menu = window.menuBar().addMenu("&Review")
    for text, slot in (
        ("&Trend review…", lambda: open_trends(window)),
        ("&Alarm review…", lambda: open_alarms(window)),
        ("Alarm &burden…", lambda: open_burden(window)),
        ("&Handover report…", lambda: open_handover(window)),
    ):
        action = QAction(text, window)
        action.triggered.connect(lambda _=False, s=slot: s())
        menu.addAction(action)


def extend_bed_menu(window: MainWindow, menu: QMenu, bed_id: str) -> None:
    menu.addSeparator()
    menu.addAction("Trend review…", lambda: open_trends(window, bed_id))
    menu.addAction("Alarm review…", lambda: open_alarms(window, bed_id))
    menu.addAction("Handover report of this bed…", lambda: open_handover(window, bed_id))
