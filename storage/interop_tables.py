"""Tables of the interfaces (HL7 v2 over MLLP, FHIR): the store-and-forward outbox and the inbound log.

They live in the encrypted record because a queued message carries the patient's identifiers. The
outbox row is the message as it will be sent, built once: a resend after a restart repeats the same
bytes and the same control id, so a receiver that keeps control ids can drop the duplicate.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text
from wardwatch.storage.schema import metadata

# state: "pending" (to send, from `next_try`), "sent" (the peer accepted it), "refused" (the peer kept
# refusing it; kept for IT to look at and re-queue, never silently deleted)
interop_outbox = Table(
    "interop_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("link", String(16), nullable=False),  # "hl7", "alarms", "fhir"
    Column("control_id", String(64), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),  # "ORU^R01", "ORU^R40", "Bundle"
    Column("bed_id", String(32), nullable=False),
    Column("created", Float, nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", String(8), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_try", Float, nullable=False),
    Column("done_at", Float),
    Column("last_error", Text, nullable=False, default=""),
    Index("ix_interop_outbox_due", "link", "state", "next_try", "id"),
)

# Messages received (inbound ADT) by control id: a message sent again by an engine that missed our ACK
# is answered with the same ACK and not applied twice.
interop_inbound = Table(
    "interop_inbound",
    metadata,
    Column("control_id", String(64), primary_key=True),
    Column("received_at", Float, nullable=False),
    Column("event", String(16), nullable=False),
    Column("ack_code", String(2), nullable=False),
    Column("ack_text", Text, nullable=False, default=""),
)
