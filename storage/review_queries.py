"""Queries of shift review: alarm journal lines, technical events, nurses' notes, who was in a bed.

Trends and full disclosure come from `RecordReader` itself (this reader is one): the review screens and
the handover report see exactly what the exports see. Rows come back as plain frozen dataclasses; what
they mean (an alarm's episode from its journal lines, NEWS2 over time) is worked out in app/review/.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from wardwatch.storage import schema
from wardwatch.storage.reader import RecordReader
from wardwatch.storage.review_tables import shift_notes


@dataclass(frozen=True, slots=True)
class AlarmLine:
    """One recorded alarm-journal line."""

    time: float
    bed: str
    alarm_id: int | None
    key: str
    priority: str | None
    action: str
    user: str
    detail: str


@dataclass(frozen=True, slots=True)
class TechnicalLine:
    time: float
    bed: str
    kind: str
    active: bool
    detail: str


@dataclass(frozen=True, slots=True)
class NoteLine:
    time: float
    bed: str
    author: str
    text: str


@dataclass(frozen=True, slots=True)
class Occupant:
    """Who lay in a bed: personal health information, for the report and the screens only."""

    family_name: str
    given_name: str
    mrn: str
    birth_date: dt.date | None
    admitted_at: float
    discharged_at: float | None

    def __repr__(self) -> str:  # never leak PHI into logs or tracebacks
        return "Occupant(<masked>)"

    __str__ = __repr__

    @property
    def display_name(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name}"


class ReviewReader(RecordReader):
    def alarm_lines(self, bed: str | None, start: float, end: float) -> list[AlarmLine]:
        """Alarm-journal lines from `start` to `end` (all beds when `bed` is None), oldest first."""
        a = schema.alarm_events
        query = select(a).where(a.c.time >= start, a.c.time <= end).order_by(a.c.time, a.c.id)
        if bed is not None:
            query = query.where(a.c.bed_id == bed)
        with self._engine.connect() as conn:
            return [
                AlarmLine(r.time, r.bed_id, r.alarm_id, r.key, r.priority, r.action, r.user, r.detail)
                for r in conn.execute(query)
            ]

    def technical_lines(self, bed: str | None, start: float, end: float) -> list[TechnicalLine]:
        t = schema.technical_events
        query = select(t).where(t.c.time >= start, t.c.time <= end).order_by(t.c.time, t.c.id)
        if bed is not None:
            query = query.where(t.c.bed_id == bed)
        with self._engine.connect() as conn:
            return [
                TechnicalLine(r.time, r.bed_id, r.kind, bool(r.active), r.detail) for r in conn.execute(query)
            ]

    def notes(self, bed: str | None, start: float, end: float) -> list[NoteLine]:
        n = shift_notes
        query = select(n).where(n.c.time >= start, n.c.time <= end).order_by(n.c.time, n.c.id)
        if bed is not None:
            query = query.where(n.c.bed_id == bed)
        with self._engine.connect() as conn:
            return [NoteLine(r.time, r.bed_id, r.author, r.text) for r in conn.execute(query)]

    def last_entry_before(self, bed: str, when: float) -> AlarmLine | None:
        """The newest NEWS2 observations a nurse entered for `bed` before `when` (consciousness,
        air or oxygen, SpO₂ scale): they hold until the next entry."""
        a = schema.alarm_events
        query = (
            select(a)
            .where(a.c.bed_id == bed, a.c.action == "clinical_entry", a.c.time < when)
            .order_by(a.c.time.desc())
            .limit(1)
        )
        with self._engine.connect() as conn:
            r = conn.execute(query).first()
        if r is None:
            return None
        return AlarmLine(r.time, r.bed_id, r.alarm_id, r.key, r.priority, r.action, r.user, r.detail)

    def bed_labels(self) -> dict[str, str]:
        b = schema.beds
        with self._engine.connect() as conn:
            return {r.bed_id: r.label for r in conn.execute(select(b).order_by(b.c.bed_id))}

    def occupants(self, bed: str, start: float, end: float) -> list[Occupant]:
        """Everyone admitted to `bed` at some time from `start` to `end`, the earliest first."""
        a, p = schema.admissions, schema.patients
        query = (
            select(
                a.c.admitted_at, a.c.discharged_at, p.c.family_name, p.c.given_name, p.c.mrn, p.c.birth_date
            )
            .join(p, p.c.id == a.c.patient_id)
            .where(a.c.bed_id == bed, a.c.admitted_at <= end)
            .where((a.c.discharged_at.is_(None)) | (a.c.discharged_at >= start))
            .order_by(a.c.admitted_at)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            Occupant(
                r.family_name,
                r.given_name,
                r.mrn,
                dt.date.fromisoformat(r.birth_date) if r.birth_date else None,
                r.admitted_at,
                r.discharged_at,
            )
            for r in rows
        ]


def review_reader(reader: RecordReader) -> ReviewReader:
    """A review reader on the same connections as `reader` (the record's reading engine, whose larger
    page cache the review's repeated trend queries want)."""
    return ReviewReader(reader._engine)
