"""The interfaces' store-and-forward queue in the encrypted record (tables in interop_tables.py).

Any thread may call it: each call is one short transaction on the record's engine (WAL, busy timeout),
so the station's writer and the links wait for each other for milliseconds, never fail on each other.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, and_, delete, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from wardwatch.storage.interop_tables import interop_inbound, interop_outbox

PENDING = "pending"
SENT = "sent"
REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message to send, built once; `control_id` is unique for ever (MSH-10, or the Bundle's id)."""

    link: str
    control_id: str
    kind: str
    bed_id: str
    payload: str


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    row_id: int
    link: str
    control_id: str
    kind: str
    bed_id: str
    payload: str
    attempts: int
    created: float


@dataclass(frozen=True, slots=True)
class Backlog:
    pending: int
    refused: int
    oldest_pending: float | None  # when the oldest message still to send was queued
    sent: int


@dataclass(frozen=True, slots=True)
class InboundAnswer:
    ack_code: str
    ack_text: str


class OutboxQueue:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock

    # -- outbound --------------------------------------------------------------------------------------
    def enqueue(self, messages: Sequence[OutboxMessage]) -> int:
        """Queue messages (one transaction); a control id already queued is ignored. Returns how many
        were new."""
        if not messages:
            return 0
        now = self._clock()
        rows = [
            {
                "link": m.link,
                "control_id": m.control_id,
                "kind": m.kind,
                "bed_id": m.bed_id,
                "created": now,
                "payload": m.payload,
                "state": PENDING,
                "attempts": 0,
                "next_try": now,
                "last_error": "",
            }
            for m in messages
        ]
        with self._engine.begin() as conn:
            result = conn.execute(sqlite_insert(interop_outbox).on_conflict_do_nothing(), rows)
        return max(0, int(result.rowcount)) if result.rowcount is not None else len(rows)

    def due(self, link: str, limit: int = 50, now: float | None = None) -> list[QueuedMessage]:
        """The oldest messages of `link` whose time to (re)try has come, in the order they were queued."""
        now = self._clock() if now is None else now
        t = interop_outbox
        query = (
            select(
                t.c.id, t.c.link, t.c.control_id, t.c.kind, t.c.bed_id, t.c.payload, t.c.attempts, t.c.created
            )
            .where(and_(t.c.link == link, t.c.state == PENDING, t.c.next_try <= now))
            .order_by(t.c.id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [QueuedMessage(*row) for row in conn.execute(query)]

    def next_due_time(self, link: str) -> float | None:
        t = interop_outbox
        with self._engine.connect() as conn:
            return conn.execute(
                select(func.min(t.c.next_try)).where(and_(t.c.link == link, t.c.state == PENDING))
            ).scalar()

    def mark_sent(self, row_ids: Sequence[int]) -> None:
        if not row_ids:
            return
        t = interop_outbox
        with self._engine.begin() as conn:
            conn.execute(
                update(t)
                .where(t.c.id.in_(list(row_ids)))
                .values(state=SENT, done_at=self._clock(), attempts=t.c.attempts + 1, last_error="")
            )

    def retry_later(self, row_id: int, next_try: float, error: str) -> None:
        t = interop_outbox
        with self._engine.begin() as conn:
            conn.execute(
                update(t)
                .where(t.c.id == row_id)
                .values(next_try=next_try, attempts=t.c.attempts + 1, last_error=error[:500])
            )

    def refuse(self, row_id: int, error: str) -> None:
        t = interop_outbox
        with self._engine.begin() as conn:
            conn.execute(
                update(t)
                .where(t.c.id == row_id)
                .values(
                    state=REFUSED, done_at=self._clock(), attempts=t.c.attempts + 1, last_error=error[:500]
                )
            )

    def requeue_refused(self, link: str | None = None) -> int:
        """Give refused messages another go (after IT fixed the receiver)."""
        t = interop_outbox
        cond = t.c.state == REFUSED if link is None else and_(t.c.state == REFUSED, t.c.link == link)
        with self._engine.begin() as conn:
            return int(
                conn.execute(update(t).where(cond).values(state=PENDING, next_try=self._clock())).rowcount
            )

    def backlog(self, link: str) -> Backlog:
        t = interop_outbox
        with self._engine.connect() as conn:
            counts = dict(
                conn.execute(
                    select(t.c.state, func.count()).where(t.c.link == link).group_by(t.c.state)
                ).all()
            )
            oldest = conn.execute(
                select(func.min(t.c.created)).where(and_(t.c.link == link, t.c.state == PENDING))
            ).scalar()
        return Backlog(
            int(counts.get(PENDING, 0)), int(counts.get(REFUSED, 0)), oldest, int(counts.get(SENT, 0))
        )

    def purge_sent(self, older_than: float) -> int:
        """Delivered messages are kept a while for IT, then deleted: they carry patient identifiers."""
        t = interop_outbox
        with self._engine.begin() as conn:
            return int(
                conn.execute(delete(t).where(and_(t.c.state == SENT, t.c.done_at < older_than))).rowcount
            )

    # -- inbound ---------------------------------------------------------------------------------------
    def inbound_answer(self, control_id: str) -> InboundAnswer | None:
        t = interop_inbound
        with self._engine.connect() as conn:
            row = conn.execute(select(t.c.ack_code, t.c.ack_text).where(t.c.control_id == control_id)).first()
        return None if row is None else InboundAnswer(row[0], row[1])

    def remember_inbound(self, control_id: str, event: str, answer: InboundAnswer) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                sqlite_insert(interop_inbound).on_conflict_do_nothing(),
                {
                    "control_id": control_id,
                    "received_at": self._clock(),
                    "event": event[:16],
                    "ack_code": answer.ack_code,
                    "ack_text": answer.ack_text,
                },
            )
