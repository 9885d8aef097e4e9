"""Reading the record for screens, off the GUI thread.

The widgets never touch the database: they ask the station for a query, which runs on a small pool of
reader threads (SQLite in WAL mode lets them read while the writer writes) and hands back a Future; the
UI turns its completion into a Qt signal. Which queries exist is set by whoever attaches a record.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JournalLine:
    """One recorded alarm-journal or technical event, as a review list shows it."""

    time: float
    bed: str
    action: str
    key: str
    priority: str | None
    user: str
    detail: str


JournalSource = Callable[[float, float], list[JournalLine]]


class RecordQueries:
    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="record-reader")
        self.journal: JournalSource | None = None  # set when a record is attached

    @property
    def available(self) -> bool:
        return self.journal is not None

    def journal_between(self, start: float, end: float) -> Future[list[JournalLine]]:
        """The recorded journal from `start` to `end`, newest first (an empty list without a record)."""
        source = self.journal
        done: Future[list[JournalLine]] = Future()
        if source is None:
            done.set_result([])
            return done
        try:
            return self._pool.submit(lambda: sorted(source(start, end), key=lambda j: j.time, reverse=True))
        except RuntimeError:  # the station has stopped: a screen still open gets an answer, not a crash
            done.set_exception(RecordClosedError("the station has stopped reading its record"))
            return done

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class RecordClosedError(RuntimeError):
    pass
