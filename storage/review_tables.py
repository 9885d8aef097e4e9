"""Tables and indexes of shift review (handover issue), on the record's shared metadata.

Revision 0006 (migrations/versions/v0006_shift_notes.py) creates them. A nurse's note is personal health
information: it lives only here, inside the encrypted record, and never in a log line.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text
from wardwatch.storage import schema

# A free-text note a nurse wrote on a bed during the shift, with who wrote it and when (UTC seconds).
shift_notes = Table(
    "shift_notes",
    schema.metadata,
    Column("id", Integer, primary_key=True),
    Column("time", Float, nullable=False),
    Column("bed_id", String(32), nullable=False),
    Column("author", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Index("ix_shift_notes_bed_time", "bed_id", "time"),
)

# The ward-wide review (burden dashboard, ward report) asks for every bed's events of a period: by time
# alone, which the (bed_id, time) indexes of revision 0001 cannot serve.
alarm_events_by_time = Index("ix_alarm_events_time", schema.alarm_events.c.time)
technical_events_by_time = Index("ix_technical_events_time", schema.technical_events.c.time)
