"""The hash-chained audit trail: appending a row, verifying the chain, reading and exporting it.

Each row's `hash` is SHA-256 over its predecessor's hash and the row's own content, id included:

    hash = sha256(prev_hash + canonical(id, time, user, action, target, outcome, before, after, detail))

so that editing a row changes its hash, deleting or inserting one breaks the next row's link, and
swapping two rows breaks both (the id is inside the hash). The newest row's id and hash are also kept
in `audit_head`, in the same transaction, which is how deleting rows from the end shows.

Every audit row goes through `append_audit`, inside a write transaction: the station's rows on the
record writer's one thread, the command line's in its own short transaction. It takes SQLite's write
lock before it reads the head, so two writers (a running station and a command) can never both chain
onto the same row.

What the chain does not stop: someone who holds the database key and rewrites every hash from the
tampered row to the end, head included. `audit verify` prints the head hash so that it can be written
down elsewhere (a ticket, a syslog server) and compared later.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, func, insert, select, update
from wardwatch.app.security.access import AuditEntry
from wardwatch.storage import schema
from wardwatch.storage.security_tables import audit_head

GENESIS = "0" * 64
CONTENT = ("time", "user", "action", "target", "outcome", "before", "after", "detail")
DEFAULTS: Mapping[str, object] = {"target": "", "outcome": "ok", "before": "", "after": "", "detail": ""}
FETCH = 20_000  # rows per round trip while verifying


def canonical(row_id: int, values: Mapping[str, object]) -> str:
    """The text a row's hash covers: its id and content fields in a fixed order, as JSON (a float's
    repr round-trips through SQLite's REAL exactly, so the same row always gives the same text)."""
    return json.dumps(
        [int(row_id), float(values["time"]), *(str(values[k]) for k in CONTENT[1:])],  # type: ignore[arg-type]
        ensure_ascii=False,
        separators=(",", ":"),
    )


def row_hash(prev_hash: str, row_id: int, values: Mapping[str, object]) -> str:
    return hashlib.sha256((prev_hash + canonical(row_id, values)).encode("utf-8")).hexdigest()


def complete(values: Mapping[str, object]) -> dict[str, object]:
    out = {**DEFAULTS, **values}
    for key in CONTENT[1:]:
        out[key] = "" if out[key] is None else str(out[key])
    return out


def append_audit(conn: Connection, values: Mapping[str, object]) -> dict[str, object]:
    """Chain one row onto the trail, in the caller's (write) transaction; the row as written."""
    a = schema.audit
    # an UPDATE first: it takes the write lock, so nobody else can append between our read and insert
    taken = conn.execute(update(audit_head).where(audit_head.c.id == 1).values(id=1)).rowcount
    head = conn.execute(select(audit_head.c.last_hash)).scalar() if taken else None
    last_id = conn.execute(select(func.max(a.c.id))).scalar() or 0
    row = complete(values)
    row_id = int(last_id) + 1
    prev = head if head is not None else GENESIS
    row.update(id=row_id, prev_hash=prev, hash=row_hash(prev, row_id, row))
    conn.execute(insert(a), row)
    if taken:
        conn.execute(
            update(audit_head).where(audit_head.c.id == 1).values(last_id=row_id, last_hash=row["hash"])
        )
    else:
        conn.execute(insert(audit_head), {"id": 1, "last_id": row_id, "last_hash": row["hash"]})
    return row


def chain_rows(
    prev_hash: str, first_id: int, rows: Iterable[Mapping[str, object]]
) -> Iterator[dict[str, object]]:
    """Rows with ids and hashes from `first_id` on, chained after `prev_hash` (bulk loading, migration)."""
    row_id = first_id
    for values in rows:
        row = complete(values)
        row.update(id=row_id, prev_hash=prev_hash, hash=row_hash(prev_hash, row_id, row))
        prev_hash = str(row["hash"])
        row_id += 1
        yield row


@dataclass
class Verification:
    entries: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


MAX_PROBLEMS = 20


def verify_chain(conn: Connection) -> Verification:
    """Walk the whole trail in id order and report every row that does not hold (up to MAX_PROBLEMS)."""
    result = Verification()
    prev = GENESIS
    expected_id: int | None = None
    cursor = conn.exec_driver_sql(
        'SELECT id, time, "user", action, target, outcome, before, after, detail, prev_hash, hash '
        "FROM audit ORDER BY id"
    )

    def problem(text: str) -> None:
        if len(result.problems) < MAX_PROBLEMS:
            result.problems.append(text)

    while batch := cursor.fetchmany(FETCH):
        for r in batch:
            row_id = r[0]
            values = dict(zip(CONTENT, r[1:9], strict=True))
            if expected_id is not None and row_id != expected_id:
                problem(f"rows {expected_id}..{row_id - 1} are missing (deleted)")
            if r[9] != prev:
                problem(f"row {row_id} does not follow the row before it (a row deleted, inserted or moved)")
            if row_hash(r[9], row_id, values) != r[10]:
                problem(f"row {row_id} was changed after it was written")
            prev = r[10]
            expected_id = row_id + 1
            result.entries += 1
    result.head_hash = prev
    head = conn.execute(select(audit_head.c.last_id, audit_head.c.last_hash)).one_or_none()
    last_id = (expected_id or 1) - 1
    if head is None:
        if result.entries:
            problem("the chain head is missing")
    elif (head.last_id, head.last_hash) != (last_id, prev):
        problem(
            f"the trail ends at row {last_id} but its head says row {head.last_id}"
            " (rows deleted from the end, or added after it)"
            if head.last_id != last_id
            else f"the last row {last_id} is not the one the head recorded"
        )
    return result


@dataclass(frozen=True, slots=True)
class AuditFilter:
    start: float | None = None
    end: float | None = None
    user: str = ""
    action: str = ""  # a prefix: "patient." matches admit, move and discharge
    outcome: str = ""
    limit: int = 5000


def read_audit(engine: Engine, f: AuditFilter) -> list[dict[str, object]]:
    """Audit rows matching the filter, newest first (for the viewer and the CSV export)."""
    a = schema.audit
    q = select(a).order_by(a.c.id.desc()).limit(f.limit)
    if f.start is not None:
        q = q.where(a.c.time >= f.start)
    if f.end is not None:
        q = q.where(a.c.time < f.end)
    if f.user:
        q = q.where(a.c.user == f.user)
    if f.action:
        q = q.where(a.c.action.startswith(f.action, autoescape=True))
    if f.outcome:
        q = q.where(a.c.outcome == f.outcome)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


CSV_COLUMNS = (
    "id",
    "time",
    "user",
    "action",
    "target",
    "outcome",
    "before",
    "after",
    "detail",
    "prev_hash",
    "hash",
)


def write_audit_csv(rows: Iterable[Mapping[str, object]], out: Path) -> int:
    """The rows as CSV (time as ISO 8601 UTC beside the epoch seconds); the number written."""
    import datetime as dt

    n = 0
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(("id", "time_utc", *CSV_COLUMNS[1:]))
        for r in rows:
            when = dt.datetime.fromtimestamp(float(r["time"]), dt.UTC).isoformat(timespec="seconds")  # type: ignore[arg-type]
            w.writerow((r["id"], when, *(r[k] for k in CSV_COLUMNS[1:])))
            n += 1
    return n


def entry_values(entry: AuditEntry) -> dict[str, object]:
    return {
        "time": entry.time,
        "user": entry.user,
        "action": entry.action,
        "target": entry.target,
        "outcome": entry.outcome,
        "before": entry.before,
        "after": entry.after,
        "detail": entry.detail,
    }


class DirectAudit:
    """An audit sink for the command line: each entry in its own short write transaction (the station,
    if it runs, waits for it through SQLite's lock; the chain stays one line)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __call__(self, entry: AuditEntry) -> None:
        with self._engine.begin() as conn:
            append_audit(conn, entry_values(entry))
