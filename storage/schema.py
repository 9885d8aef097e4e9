"""Tables of the encrypted record (SQLAlchemy Core). Migrations in `migrations/` create and change them.

Times are UTC seconds since the epoch (REAL). Patient names and identifiers live only in `patients`.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

beds = Table(
    "beds",
    metadata,
    Column("bed_id", String(32), primary_key=True),
    Column("label", String(64), nullable=False),
)

patients = Table(
    "patients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("mrn", String(64), nullable=False, index=True),
    Column("family_name", String(128), nullable=False),
    Column("given_name", String(128), nullable=False),
    Column("birth_date", String(10)),  # ISO date
)

admissions = Table(
    "admissions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", Integer, ForeignKey("patients.id"), nullable=False),
    Column("bed_id", String(32), nullable=False),
    Column("admitted_at", Float, nullable=False),
    Column("discharged_at", Float),
    Index("ix_admissions_bed", "bed_id", "admitted_at"),
)

devices = Table(
    "devices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bed_id", String(32), nullable=False),
    Column("source", String(256), nullable=False),  # e.g. "sim:stable", "serial:/dev/ttyUSB0"
    Column("since", Float, nullable=False),
    Column("until", Float),
)

alarm_events = Table(
    "alarm_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("time", Float, nullable=False),
    Column("bed_id", String(32), nullable=False),
    Column("alarm_id", Integer),
    Column("key", String(64), nullable=False),
    Column("priority", String(8)),
    Column("action", String(24), nullable=False),
    Column("user", String(64), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_alarm_events_bed_time", "bed_id", "time"),
)

technical_events = Table(
    "technical_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("time", Float, nullable=False),
    Column("bed_id", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_technical_events_bed_time", "bed_id", "time"),
)

# One row per bed, channel and minute; `samples` holds 60 float32 values, one per second (NaN = none).
trends = Table(
    "trends",
    metadata,
    Column("bed_id", String(32), primary_key=True),
    Column("code", Integer, primary_key=True),
    Column("minute", Integer, primary_key=True),  # UTC minutes since the epoch
    Column("samples", LargeBinary, nullable=False),
)

# Completed hours of trends, folded from the minute rows by the writer (`compact_slice`): a day of a
# bed is ~190 rows instead of ~11,500, which is what keeps a 24 h trend query in a few milliseconds.
trend_hours = Table(
    "trend_hours",
    metadata,
    Column("bed_id", String(32), primary_key=True),
    Column("code", Integer, primary_key=True),
    Column("hour", Integer, primary_key=True),  # UTC hours since the epoch
    Column("samples", LargeBinary, nullable=False),  # 3600 float32 values, one per second (NaN = none)
)

# Full disclosure: blocks of a few seconds per channel, quantised and compressed (see codec.py).
waveforms = Table(
    "waveforms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bed_id", String(32), nullable=False),
    Column("code", Integer, nullable=False),
    Column("t0", Float, nullable=False),
    Column("t_end", Float, nullable=False),
    Column("rate", Float, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("count", Integer, nullable=False),
    Column("gain", Float, nullable=False),
    Column("offset", Float, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Index("ix_waveforms_bed_time", "bed_id", "t0"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("time", Float, nullable=False),
    Column("user", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    # users issue (revision 0003): what was acted on, how it ended, the value before and after, and the
    # hash chain (see storage/security_audit.py): each row carries its predecessor's hash and its own
    Column("target", String(128), nullable=False, default=""),
    Column("outcome", String(16), nullable=False, default="ok"),
    Column("before", Text, nullable=False, default=""),
    Column("after", Text, nullable=False, default=""),
    Column("prev_hash", String(64), nullable=False, default=""),
    Column("hash", String(64), nullable=False, default=""),
)

# Stretches the station saw but could not record (disk full, store down), so a gap is never silent.
recording_gaps = Table(
    "recording_gaps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("start", Float, nullable=False),
    Column("end", Float, nullable=False),
    Column("reason", Text, nullable=False),
)
