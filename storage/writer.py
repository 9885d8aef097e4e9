"""The record's single writer thread: batches rows into one transaction at a time.

Everything the station records goes through `RecordWriter.put` (waveforms, trends, technical events)
or `put_critical` (alarm events, acknowledgements, admissions, audit), whose Future completes only
after the transaction holding the row has committed: nothing is reported as recorded before it is.

When the disk is full or unwritable the writer stops recording without stopping anything else: the
state goes to "recording stopped" (the station turns it into a technical alarm), waveforms and trends
are dropped while it lasts, critical rows are kept and written on recovery, retries go on every few
seconds, and the stretch that was lost is written down as a recording gap once writing works again.
Retention purges run here too, in small slices between batches, so they never hold the writer up.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, Table, and_, delete, insert, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from wardwatch.storage import schema
from wardwatch.storage.codec import decode_minute, hour_of_minutes, merge_minutes
from wardwatch.storage.security_audit import append_audit

log = logging.getLogger(__name__)

BATCH_S = 0.5
RETRY_S = 3.0
PURGE_EVERY_S = 60.0
PURGE_SLICE = 2000  # rows per table per slice
# Minute rows of trends are folded into hour rows once their hour ended this long ago (a partial minute
# written at shutdown and completed at the next start, or rows held back by a full disk, come later).
COMPACT_AFTER_S = 600.0


@dataclass(frozen=True, slots=True)
class Row:
    table: Table
    values: dict[str, object]


@dataclass(frozen=True, slots=True)
class Retention:
    waveforms_s: float = 72 * 3600.0
    trends_s: float = 30 * 86400.0


@dataclass(frozen=True, slots=True)
class WriterState:
    recording: bool
    since: float  # when the current state began
    reason: str = ""
    dropped_rows: int = 0


@dataclass
class _Pending:
    rows: list[Row] = field(default_factory=list)
    futures: list[Future[None]] = field(default_factory=list)


class RecordWriter:
    def __init__(
        self,
        engine: Engine,
        retention: Retention | None = None,
        on_state: Callable[[WriterState], None] | None = None,
        clock: Callable[[], float] = time.time,
        batch_s: float = BATCH_S,
    ) -> None:
        self._engine = engine
        self._retention = retention or Retention()
        self._on_state = on_state
        self._clock = clock
        self._batch_s = batch_s
        self._queue: queue.SimpleQueue[tuple[Row, Future[None] | None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._critical_backlog = _Pending()
        self._failing_since: float | None = None
        self._dropped = 0
        self._last_purge = 0.0
        self.state = WriterState(True, clock())
        self.committed_rows = 0
        self.batches = 0

    # -- producers (any thread) ---------------------------------------------------------------------
    def put(self, row: Row) -> None:
        self._queue.put((row, None))

    def put_critical(self, row: Row) -> Future[None]:
        future: Future[None] = Future()
        self._queue.put((row, future))
        return future

    def put_many(self, rows: Sequence[Row]) -> None:
        for row in rows:
            self._queue.put((row, None))

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="record-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, then end."""
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is committed (tests, backup)."""
        marker: Future[None] = Future()
        self._queue.put((Row(schema.audit, {}), marker))  # an empty row is skipped, only the future counts
        try:
            marker.result(timeout)
            return True
        except Exception:
            return False

    # -- the thread ---------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                batch = self._collect()
                if batch is None:
                    self._write_batch(self._take_backlog(_Pending()))
                    return
                self._write_batch(batch)
                self._maybe_purge()
            except Exception:  # never let the writer die: the next batch may well succeed
                log.exception("record writer round failed")

    def _collect(self) -> _Pending | None:
        pending = _Pending()
        try:
            first = self._queue.get(timeout=self._batch_s if self._failing_since is None else RETRY_S)
        except queue.Empty:
            return self._take_backlog(pending)
        if first is None:
            return None if self._queue.empty() else self._collect_more(pending)
        self._add(pending, first)
        deadline = time.monotonic() + self._batch_s
        while time.monotonic() < deadline:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # see it again on the next round, after this batch is written
                break
            self._add(pending, item)
        return self._take_backlog(pending)

    def _collect_more(self, pending: _Pending) -> _Pending:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                self._add(pending, item)
        self._queue.put(None)
        return self._take_backlog(pending)

    def _add(self, pending: _Pending, item: tuple[Row, Future[None] | None]) -> None:
        row, future = item
        if future is not None:
            pending.futures.append(future)
            if row.values:
                self._critical_backlog.rows.append(row)
            return
        if self._failing_since is not None:
            self._dropped += 1  # waveforms and trends are not kept while the disk refuses them
            return
        pending.rows.append(row)

    def _take_backlog(self, pending: _Pending) -> _Pending:
        """Critical rows go first and stay in the backlog until a commit has taken them."""
        return _Pending(self._critical_backlog.rows + pending.rows, pending.futures)

    def _write_batch(self, batch: _Pending) -> None:
        futures = [*self._critical_backlog.futures, *batch.futures]
        if not batch.rows and not futures:
            return
        try:
            with self._engine.begin() as conn:
                self._insert(conn, batch.rows)
                if self._failing_since is not None:
                    conn.execute(
                        insert(schema.recording_gaps),
                        {"start": self._failing_since, "end": self._clock(), "reason": self.state.reason},
                    )
        except DBAPIError as exc:
            self._failed(exc)
            self._critical_backlog.futures = futures
            return
        except Exception:
            log.exception("the record writer failed on a batch; its rows are lost")
            self._critical_backlog = _Pending()
            for f in futures:
                if not f.done():
                    f.set_exception(RuntimeError("not recorded"))
            return
        self._critical_backlog = _Pending()
        self.committed_rows += len(batch.rows)
        self.batches += 1
        if self._failing_since is not None:
            self._recovered()
        for f in futures:
            if not f.done():
                f.set_result(None)

    def _insert(self, conn: Connection, rows: list[Row]) -> None:
        by_table: dict[str, list[dict[str, object]]] = {}
        for row in rows:
            if row.table is schema.trends:
                self._upsert_trend(conn, row.values)
            elif row.table is schema.admissions:
                self._admission(conn, row.values)
            elif row.table is schema.beds:
                conn.execute(
                    sqlite_insert(schema.beds)
                    .values(row.values)
                    .on_conflict_do_update(index_elements=["bed_id"], set_={"label": row.values["label"]})
                )
            elif row.table is schema.devices:
                self._device(conn, row.values)
            elif row.table is schema.audit:
                append_audit(conn, row.values)  # hash-chained, in write order (users issue)
            elif row.values:
                by_table.setdefault(row.table.name, []).append(row.values)
        for name, values in by_table.items():
            conn.execute(insert(schema.metadata.tables[name]), values)

    @staticmethod
    def _upsert_trend(conn: Connection, values: dict[str, object]) -> None:
        t = schema.trends
        where = and_(
            t.c.bed_id == values["bed_id"], t.c.code == values["code"], t.c.minute == values["minute"]
        )
        old = conn.execute(select(t.c.samples).where(where)).scalar()
        if old is None:
            conn.execute(insert(t), values)
        else:
            merged = merge_minutes(old, decode_minute(values["samples"]))  # type: ignore[arg-type]
            conn.execute(update(t).where(where).values(samples=merged))

    @staticmethod
    def _admission(conn: Connection, values: dict[str, object]) -> None:
        """An admission brings its patient (a new row each time: identities are not merged here); a
        discharge closes the bed's open admission."""
        a = schema.admissions
        if "patient" in values:
            patient_id = conn.execute(insert(schema.patients), values["patient"]).inserted_primary_key[0]
            conn.execute(
                insert(a),
                {"patient_id": patient_id, "bed_id": values["bed_id"], "admitted_at": values["admitted_at"]},
            )
        else:
            conn.execute(
                update(a)
                .where(a.c.bed_id == values["bed_id"], a.c.discharged_at.is_(None))
                .values(discharged_at=values["discharged_at"])
            )

    @staticmethod
    def _device(conn: Connection, values: dict[str, object]) -> None:
        """A bed's device assignment: the previous one ends when the new one begins."""
        d = schema.devices
        conn.execute(
            update(d).where(d.c.bed_id == values["bed_id"], d.c.until.is_(None)).values(until=values["since"])
        )
        if values.get("source"):
            conn.execute(insert(d), values)

    def _failed(self, exc: DBAPIError) -> None:
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
        if self._failing_since is None:
            self._failing_since = self._clock()
            log.error("recording stopped: %s (monitoring and alarms go on)", reason)
            self._set_state(WriterState(False, self._failing_since, reason))

    def _recovered(self) -> None:
        log.warning(
            "recording resumed after %.0f s; %d rows were not recorded",
            self._clock() - (self._failing_since or 0.0),
            self._dropped,
        )
        self._failing_since = None
        self._set_state(WriterState(True, self._clock(), "", self._dropped))

    def _set_state(self, state: WriterState) -> None:
        self.state = state
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:
                log.exception("record state listener failed")

    def _maybe_purge(self) -> None:
        now = self._clock()
        if self._failing_since is not None or now - self._last_purge < PURGE_EVERY_S:
            return
        self._last_purge = now
        try:
            compact_slice(self._engine, now)
            purge_slice(self._engine, now, self._retention)
        except DBAPIError as exc:
            log.warning("retention purge skipped: %s", str(exc.orig).splitlines()[0] if exc.orig else exc)
        except Exception:  # the writer must outlive any purge problem
            log.exception("retention purge failed")


def compact_slice(engine: Engine, now: float, limit: int = PURGE_SLICE) -> int:
    """Fold up to `limit` minute rows of trends whose hour is over into their hour rows (`trend_hours`);
    the number of minute rows folded. A minute row arriving after its hour was folded is folded into
    the same hour row at the next slice."""
    cut = (int((now - COMPACT_AFTER_S) // 3600)) * 60  # first minute of the hour still open
    with engine.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT bed_id, code, minute, samples FROM trends WHERE minute < ? "
            "ORDER BY bed_id, code, minute LIMIT ?",
            (cut, limit),
        ).fetchall()
        hours: dict[tuple[str, int, int], list[tuple[int, bytes]]] = {}
        for bed_id, code, minute, samples in rows:
            hours.setdefault((bed_id, code, minute // 60), []).append((minute, samples))
        for (bed_id, code, hour), minutes in hours.items():
            old = conn.exec_driver_sql(
                "SELECT samples FROM trend_hours WHERE bed_id = ? AND code = ? AND hour = ?",
                (bed_id, code, hour),
            ).scalar()
            folded = hour_of_minutes(old, [m for m, _ in minutes], [d for _, d in minutes], hour)
            conn.exec_driver_sql(
                "INSERT OR REPLACE INTO trend_hours (bed_id, code, hour, samples) VALUES (?, ?, ?, ?)",
                (bed_id, code, hour, folded),
            )
            conn.exec_driver_sql(
                "DELETE FROM trends WHERE bed_id = ? AND code = ? AND minute >= ? AND minute <= ?",
                (bed_id, code, minutes[0][0], minutes[-1][0]),
            )
    return len(rows)


def purge_slice(engine: Engine, now: float, retention: Retention, limit: int = PURGE_SLICE) -> int:
    """Delete up to `limit` expired rows of each kind; the number deleted (0 when nothing was due)."""
    w = schema.waveforms
    n = 0
    with engine.begin() as conn:
        if math.isfinite(retention.waveforms_s):
            wave_cut = now - retention.waveforms_s
            old_waves = select(w.c.id).where(w.c.t_end < wave_cut).limit(limit).scalar_subquery()
            n += conn.execute(delete(w).where(w.c.id.in_(old_waves))).rowcount or 0
        if not math.isfinite(retention.trends_s):
            return n
        minute_cut = int((now - retention.trends_s) // 60)
        # trends have a composite key; SQLite's rowid picks a bounded slice of them
        n += (
            conn.execute(
                text(
                    "DELETE FROM trends WHERE rowid IN "
                    "(SELECT rowid FROM trends WHERE minute < :cut LIMIT :n)"
                ),
                {"cut": minute_cut, "n": limit},
            ).rowcount
            or 0
        )
        hour_cut = minute_cut // 60  # an hour row goes once all of its hour has expired
        n += (
            conn.execute(
                text(
                    "DELETE FROM trend_hours WHERE rowid IN "
                    "(SELECT rowid FROM trend_hours WHERE hour < :cut LIMIT :n)"
                ),
                {"cut": hour_cut, "n": limit},
            ).rowcount
            or 0
        )
    return n
