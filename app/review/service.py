"""Shift review beside a running station: every query on its own reader thread, answers as Futures.

The review screens ask here and paint what comes back (a Qt signal carries each Future's completion to
the GUI thread); nothing here runs on the GUI thread or touches a widget. One worker keeps the review's
reading from competing with the station's own record queries for both cores; a newer request of the
same screen does not cancel an older one, but each screen sends one request at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from wardwatch.app.alarms.settings import AlarmSettings
from wardwatch.app.review.burden import Burden, alarm_burden
from wardwatch.app.review.episodes import AlarmEpisode, alarm_episodes
from wardwatch.app.review.handover import BedShift, Progress, bed_shift, make_handover_report
from wardwatch.storage.review_queries import ReviewReader
from wardwatch.storage.writer import Row

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Wave:
    """Full-disclosure samples of one channel."""

    times: npt.NDArray[np.float64]
    values: npt.NDArray[np.float32]
    rate: float
    unit: str


class ReviewClosedError(RuntimeError):
    pass


class ReviewService:
    def __init__(
        self,
        reader: ReviewReader,
        beds: Callable[[], list[tuple[str, str]]],
        station_name: str,
        put_critical: Callable[[Row], Future[None]] | None = None,
        settings_for: Callable[[str], AlarmSettings] | None = None,
        reports_dir: Path | None = None,
    ) -> None:
        self.reader = reader
        self.beds = beds  # (bed id, label) in ward order, as the station has them now
        self.station_name = station_name
        self.put_critical = put_critical
        self.settings_for = settings_for
        self.reports_dir = reports_dir or Path.home()  # where the GUI offers to save a report
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="review-reader")

    def _submit(self, fn: Callable[[], T]) -> Future[T]:
        try:
            return self._pool.submit(fn)
        except RuntimeError:  # the station has stopped: a screen still open gets an answer, not a crash
            done: Future[T] = Future()
            done.set_exception(ReviewClosedError("the station has stopped reading its record"))
            return done

    def label(self, bed: str) -> str:
        return dict(self.beds()).get(bed, bed)

    # -- what the screens ask ---------------------------------------------------------------------------
    def shifts(self, beds: Sequence[str], start: float, end: float) -> Future[list[BedShift]]:
        """Trends, NEWS2, alarms, technical problems and notes of each bed (the trend review)."""
        labels = dict(self.beds())
        return self._submit(lambda: [bed_shift(self.reader, b, labels.get(b, b), start, end) for b in beds])

    def alarms(self, bed: str | None, start: float, end: float) -> Future[list[AlarmEpisode]]:
        return self._submit(lambda: alarm_episodes(self.reader.alarm_lines(bed, start, end)))

    def waves(self, bed: str, start: float, end: float) -> Future[dict[int, Wave]]:
        """Full disclosure of every channel of `bed` from `start` to `end`."""

        def read() -> dict[int, Wave]:
            return {
                code: Wave(s.times, s.values, s.rate, s.unit)
                for code, s in self.reader.waves(bed, start, end).items()
            }

        return self._submit(read)

    def burden(self, start: float, end: float, beds: Sequence[str] | None = None) -> Future[Burden]:
        ward = self.beds()
        chosen = [(b, label) for b, label in ward if beds is None or b in beds]

        def work() -> Burden:
            episodes = alarm_episodes(self.reader.alarm_lines(None, start, end))
            return alarm_burden(episodes, chosen, start, end, self.settings_for)

        return self._submit(work)

    def handover(
        self,
        beds: Sequence[str] | None,
        start: float,
        end: float,
        out: Path,
        progress: Progress | None = None,
    ) -> Future[Path]:
        """The handover report as a PDF at `out` (see make_handover_report, the user action)."""
        ward = self.beds()
        chosen = [(b, label) for b, label in ward if beds is None or b in beds]
        return self._submit(
            lambda: make_handover_report(self.reader, chosen, start, end, out, self.station_name, progress)
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
