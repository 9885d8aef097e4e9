"""Queries on the record, for review screens (on a worker thread) and the command line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, select
from wardwatch.storage import schema
from wardwatch.storage.codec import SECONDS_PER_HOUR, SECONDS_PER_MINUTE, decode_hours, decode_wave


@dataclass(frozen=True, slots=True)
class Series:
    """Values with their times (UTC seconds); NaN where nothing was recorded."""

    times: npt.NDArray[np.float64]
    values: npt.NDArray[np.float32]
    rate: float = 0.0
    unit: str = ""


@dataclass(frozen=True, slots=True)
class EventRow:
    time: float
    bed: str
    kind: str  # alarm action or technical kind
    key: str
    priority: str | None
    user: str
    detail: str


Samples = tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]  # times (UTC s), values


def _decode_minutes(rows: Sequence[Sequence[object]], start: float, end: float) -> dict[int, Samples]:
    """(code, minute, samples) rows as per-code recorded values from `start` to `end`, in time order."""
    if not rows:
        return {}
    values = np.frombuffer(b"".join(r[2] for r in rows), np.float32)  # type: ignore[misc]
    return _per_code(rows, values.reshape(-1, SECONDS_PER_MINUTE), SECONDS_PER_MINUTE, start, end)


def _decode_hours(rows: Sequence[Sequence[object]], start: float, end: float) -> dict[int, Samples]:
    """(code, hour, samples) rows, each an encoded hour, as per-code recorded values."""
    if not rows:
        return {}
    return _per_code(rows, decode_hours([r[2] for r in rows]), SECONDS_PER_HOUR, start, end)  # type: ignore[misc]


def _per_code(
    rows: Sequence[Sequence[object]], values: npt.NDArray[np.float32], span: int, start: float, end: float
) -> dict[int, Samples]:
    """Rows of `span` one-second values as per-code (times, values) of the finite values in range."""
    codes = np.array([r[0] for r in rows])
    starts = np.array([r[1] for r in rows], np.float64) * span
    seconds = np.arange(span, dtype=np.float64)
    out = {}
    for code in np.unique(codes):
        sel = np.flatnonzero(codes == code)
        sel = sel[np.argsort(starts[sel], kind="stable")]
        times = np.add.outer(starts[sel], seconds).ravel()
        vals = values[sel].ravel()
        keep = np.isfinite(vals)
        keep &= times >= start
        keep &= times <= end
        out[int(code)] = (times[keep], vals[keep])
    return out


def _merge(hours: Samples, minutes: Samples) -> Samples:
    """One channel's values from hour rows and minute rows in time order; a second both hold (a late
    minute row, not folded yet) is taken from the minute row."""
    (th, vh), (tm, vm) = hours, minutes
    if not len(th) or not len(tm) or th[-1] < tm[0]:  # the usual case: folded hours, then the open one
        return np.concatenate((th, tm)), np.concatenate((vh, vm))
    times = np.concatenate((th, tm))
    values = np.concatenate((vh, vm))
    order = np.argsort(times, kind="stable")  # stable: on a tie the minute row's value comes last
    times, values = times[order], values[order]
    last = np.append(times[1:] != times[:-1], True)
    return times[last], values[last]


class RecordReader:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def trend(self, bed: str, code: int, start: float, end: float) -> Series:
        """One-second values of a numeric channel from `start` to `end`."""
        return self._trends(bed, start, end, int(code)).get(
            int(code), Series(np.empty(0), np.empty(0, np.float32))
        )

    def trends(self, bed: str, start: float, end: float) -> dict[int, Series]:
        """Every numeric channel of a bed from `start` to `end`."""
        return self._trends(bed, start, end, None)

    def _trends(self, bed: str, start: float, end: float, code: int | None) -> dict[int, Series]:
        """Completed hours come from `trend_hours`, the rest from the minute rows (`trends`); a second
        held by both (a minute row that came after its hour was folded, not folded yet) is taken from
        the minute row. Rows come through the driver as plain tuples and are decoded in one numpy pass
        per table (SQLAlchemy's row objects would triple the time)."""
        first_m, last_m = int(start // SECONDS_PER_MINUTE), int(end // SECONDS_PER_MINUTE)
        first_h, last_h = int(start // SECONDS_PER_HOUR), int(end // SECONDS_PER_HOUR)
        only = "" if code is None else " AND code = ?"
        extra: tuple[int, ...] = () if code is None else (code,)
        with self._engine.connect() as conn:
            hours = conn.exec_driver_sql(
                "SELECT code, hour, samples FROM trend_hours"
                f" WHERE bed_id = ? AND hour >= ? AND hour <= ?{only}",
                (bed, first_h, last_h, *extra),
            ).fetchall()
            minutes = conn.exec_driver_sql(
                "SELECT code, minute, samples FROM trends"
                f" WHERE bed_id = ? AND minute >= ? AND minute <= ?{only}",
                (bed, first_m, last_m, *extra),
            ).fetchall()
        from_hours, from_minutes = _decode_hours(hours, start, end), _decode_minutes(minutes, start, end)
        empty: Samples = (np.empty(0), np.empty(0, np.float32))
        out: dict[int, Series] = {}
        for c in sorted(from_hours.keys() | from_minutes.keys()):
            times, values = _merge(from_hours.get(c, empty), from_minutes.get(c, empty))
            out[c] = Series(times, values)
        return out

    def trend_codes(self, bed: str) -> list[int]:
        with self._engine.connect() as conn:
            return [
                int(c)
                for (c,) in conn.exec_driver_sql(
                    "SELECT code FROM trends WHERE bed_id = ?"
                    " UNION SELECT code FROM trend_hours WHERE bed_id = ?",
                    (bed, bed),
                ).fetchall()
            ]

    def waves(self, bed: str, start: float, end: float, codes: set[int] | None = None) -> dict[int, Series]:
        """Full-disclosure samples of every channel (or `codes`) of a bed from `start` to `end`."""
        w = schema.waveforms
        # a block starts at most a block's length before `start`; the t_end test drops the rest
        query = (
            select(w.c.code, w.c.t0, w.c.rate, w.c.unit, w.c.count, w.c.gain, w.c.offset, w.c.data)
            .where(w.c.bed_id == bed, w.c.t0 < end, w.c.t0 >= start - 60.0, w.c.t_end > start)
            .order_by(w.c.t0)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        parts: dict[int, list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]]] = {}
        meta: dict[int, tuple[float, str]] = {}
        for r in rows:
            if codes is not None and r.code not in codes:
                continue
            values = decode_wave(r.gain, r.offset, r.data, r.count)
            times = r.t0 + np.arange(r.count) / r.rate
            keep = (times >= start) & (times < end)
            parts.setdefault(r.code, []).append((times[keep], values[keep]))
            meta[r.code] = (r.rate, r.unit)
        return {
            code: Series(
                np.concatenate([p[0] for p in chunks]),
                np.concatenate([p[1] for p in chunks]),
                meta[code][0],
                meta[code][1],
            )
            for code, chunks in parts.items()
        }

    def events(self, bed: str | None, start: float, end: float) -> list[EventRow]:
        """Alarm journal and technical events, oldest first."""
        a, t = schema.alarm_events, schema.technical_events
        qa = select(a).where(a.c.time >= start, a.c.time <= end)
        qt = select(t).where(t.c.time >= start, t.c.time <= end)
        if bed is not None:
            qa, qt = qa.where(a.c.bed_id == bed), qt.where(t.c.bed_id == bed)
        with self._engine.connect() as conn:
            alarms = [
                EventRow(r.time, r.bed_id, r.action, r.key, r.priority, r.user, r.detail)
                for r in conn.execute(qa)
            ]
            technical = [
                EventRow(
                    r.time, r.bed_id, "technical " + ("on" if r.active else "off"), r.kind, None, "", r.detail
                )
                for r in conn.execute(qt)
            ]
        return sorted(alarms + technical, key=lambda e: e.time)

    def gaps(self) -> list[tuple[float, float, str]]:
        g = schema.recording_gaps
        with self._engine.connect() as conn:
            return [(r.start, r.end, r.reason) for r in conn.execute(select(g).order_by(g.c.start))]
