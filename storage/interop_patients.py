"""Who was in a bed when: the admissions of the record, for the FHIR export (interoperability issue)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, and_, or_, select
from wardwatch.app.domain import Patient
from wardwatch.storage import schema


@dataclass(frozen=True, slots=True)
class Stay:
    patient: Patient
    admitted_at: float
    discharged_at: float | None


def stays(engine: Engine, bed: str, start: float, end: float) -> list[Stay]:
    """The admissions of `bed` that overlap [start, end], oldest first."""
    a, p = schema.admissions, schema.patients
    query = (
        select(p.c.mrn, p.c.family_name, p.c.given_name, p.c.birth_date, a.c.admitted_at, a.c.discharged_at)
        .join(p, p.c.id == a.c.patient_id)
        .where(
            and_(
                a.c.bed_id == bed,
                a.c.admitted_at <= end,
                or_(a.c.discharged_at.is_(None), a.c.discharged_at >= start),
            )
        )
        .order_by(a.c.admitted_at)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    out = []
    for mrn, family, given, born, admitted, discharged in rows:
        birth = dt.date.fromisoformat(born) if born else None
        out.append(Stay(Patient(mrn, family, given, birth), admitted, discharged))
    return out
