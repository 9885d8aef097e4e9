"""Queries on the record, for review screens (on a worker thread) and the command line."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, select
from wardwatch.storage import schema
from wardwatch.storage.codec import SECONDS_PER_MINUTE, decode_minute, decode_wave


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


class RecordReader:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def trend(self, bed: str, code: int, start: float, end: float) -> Series:
        """One-second values of a numeric channel from `start` to `end`."""
        t = schema.trends
        first, last = int(start // SECONDS_PER_MINUTE), int(end // SECONDS_PER_MINUTE)
        query = (
            select(t.c.minute, t.c.samples)
            .where(t.c.bed_id == bed, t.c.code == int(code), t.c.minute >= first, t.c.minute <= last)
            .order_by(t.c.minute)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return Series(np.empty(0), np.empty(0, np.float32))
        minutes = np.array([r.minute for r in rows], np.float64)
        values = np.concatenate([decode_minute(r.samples) for r in rows])
        times = (minutes[:, None] * SECONDS_PER_MINUTE + np.arange(SECONDS_PER_MINUTE)).ravel()
        keep = (times >= start) & (times <= end) & np.isfinite(values)
        return Series(times[keep], values[keep])

    def trends(self, bed: str, start: float, end: float) -> dict[int, Series]:
        """Every numeric channel of a bed from `start` to `end`, in one query.

        A day is ~1440 rows per channel: the rows come through the driver as plain tuples and are
        decoded in one numpy pass (SQLAlchemy's row objects would triple the time)."""
        first, last = int(start // SECONDS_PER_MINUTE), int(end // SECONDS_PER_MINUTE)
        with self._engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT code, minute, samples FROM trends WHERE bed_id = ? AND minute >= ? AND minute <= ? "
                "ORDER BY code, minute",
                (bed, first, last),
            ).fetchall()
        out: dict[int, Series] = {}
        if not rows:
            return out
        codes_t, minutes_t, blobs = zip(*rows, strict=True)
        codes = np.array(codes_t)
        minutes = np.array(minutes_t, np.float64)
        values = np.frombuffer(b"".join(blobs), np.float32).reshape(-1, SECONDS_PER_MINUTE)
        times = minutes[:, None] * SECONDS_PER_MINUTE + np.arange(SECONDS_PER_MINUTE)
        for code in np.unique(codes):
            sel = codes == code
            tt, vv = times[sel].ravel(), values[sel].ravel()
            keep = (tt >= start) & (tt <= end) & np.isfinite(vv)
            out[int(code)] = Series(tt[keep], vv[keep].copy())
        return out

    def trend_codes(self, bed: str) -> list[int]:
        t = schema.trends
        with self._engine.connect() as conn:
            return list(conn.execute(select(t.c.code).where(t.c.bed_id == bed).distinct()).scalars())

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
