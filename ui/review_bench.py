"""The Qt half of `wardwatch bench review`: how long the trend review takes to open and paint.

Timed from the window's creation to the end of its first paint with the record's answer in it: the
query and NEWS2 on the review worker, the curves set, the window drawn (offscreen unless a display is
there). Called by wardwatch.app.review.bench, which finds this module by name.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication
from wardwatch.app.review.service import ReviewService
from wardwatch.ui.review_trends import TrendReview

TIMEOUT_S = 120.0


def open_trend_view(service: ReviewService, bed: str, hours: int, end: float, repeat: int) -> list[float]:
    """Milliseconds to open the `hours` trend review of `bed`, painted, `repeat` times."""
    app = QApplication.instance() or QApplication([])
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        view = TrendReview(service, lambda: end, [bed], hours)
        view.resize(1600, 1000)
        view.show()
        deadline = started + TIMEOUT_S
        while not view.shifts and time.perf_counter() < deadline:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
            time.sleep(0.0005)
        if not view.shifts:
            raise TimeoutError("the trend review did not get its data")
        view.repaint()
        app.processEvents()
        times.append(1000 * (time.perf_counter() - started))
        view.close()
        app.processEvents()
    return times
