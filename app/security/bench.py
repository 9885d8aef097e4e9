"""`wardwatch bench security`: how long a login takes with the chosen argon2 parameters, and how long
`audit verify` takes over a trail of N entries (the trail is built in a fresh encrypted record)."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import insert
from wardwatch.app.security import passwords, totp
from wardwatch.app.security.access import AccessControl, Actor
from wardwatch.app.security.directory import UserDirectory
from wardwatch.app.security.permissions import load_permissions
from wardwatch.storage import schema
from wardwatch.storage.database import open_record
from wardwatch.storage.keys import DatabaseKey, write_key_file
from wardwatch.storage.security_audit import GENESIS, chain_rows, verify_chain
from wardwatch.storage.security_tables import audit_head

BENCH_PASSWORD = "bench password 1"  # a made-up account in a throw-away record
CHUNK = 50_000
ACTIONS = ("alarm.acknowledge", "alarm.audio_pause", "limits.patient", "session.login", "ward admit")


def _bench_rows(n: int, t0: float) -> Any:
    for i in range(n):
        yield {
            "time": t0 + i * 0.5,
            "user": f"nurse{i % 40:02d}",
            "action": ACTIONS[i % len(ACTIONS)],
            "target": f"bed{i % 32 + 1:02d}",
            "outcome": "ok",
            "before": "SpO2 low 90" if i % 5 == 2 else "",
            "after": "SpO2 low 88" if i % 5 == 2 else "",
            "detail": "",
        }


def build_trail(engine: Any, n: int, t0: float) -> float:
    """Append n chained rows in chunks; the seconds it took."""
    started = time.perf_counter()
    prev, next_id = GENESIS, 1
    rows = chain_rows(prev, next_id, _bench_rows(n, t0))
    while True:
        chunk = [r for _, r in zip(range(CHUNK), rows, strict=False)]
        if not chunk:
            break
        with engine.begin() as conn:
            conn.execute(insert(schema.audit), chunk)
            conn.execute(audit_head.delete())
            conn.execute(
                insert(audit_head), {"id": 1, "last_id": chunk[-1]["id"], "last_hash": chunk[-1]["hash"]}
            )
    return time.perf_counter() - started


def bench_security(logins: int, entries: int, folder: str | None) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        base = Path(tmp)
        key_file = base / "bench.key"
        write_key_file(key_file, DatabaseKey.new())
        record = open_record(base / "data", key_file=key_file)
        try:
            access = AccessControl(load_permissions())
            d = UserDirectory(record.engine, access)
            d.add_first_admin("admin", "Bench admin", BENCH_PASSWORD)
            d.add(Actor("admin", "admin"), "nurse.bench", "Bench nurse", "nurse", BENCH_PASSWORD)
            times = []
            for _ in range(logins):
                started = time.perf_counter()
                ok = d.login("nurse.bench", BENCH_PASSWORD).ok
                times.append((time.perf_counter() - started) * 1000)
                assert ok
            stored = passwords.hash_secret(BENCH_PASSWORD)
            verify_ms = []
            for _ in range(logins):
                started = time.perf_counter()
                assert passwords.verify_secret(stored, BENCH_PASSWORD)
                verify_ms.append((time.perf_counter() - started) * 1000)
            secret = totp.new_secret()
            d.enrol_totp("admin", secret, BENCH_PASSWORD, totp.current_code(secret, time.time()))
            started = time.perf_counter()
            # the next step's code: the enrolment used this one, and each code is accepted once
            assert d.login("admin", BENCH_PASSWORD, totp.current_code(secret, time.time() + 30)).ok
            totp_ms = (time.perf_counter() - started) * 1000
            build_s = build_trail(record.engine, entries, time.time() - entries * 0.5)
            size_mb = (base / "data" / "wardwatch.db").stat().st_size / 1e6
            started = time.perf_counter()
            with record.engine.connect() as conn:
                result = verify_chain(conn)
            verify_s = time.perf_counter() - started
        finally:
            record.close()
    p = RFC_9106_LOW_MEMORY
    return {
        "argon2": f"argon2id t={p.time_cost} m={p.memory_cost // 1024} MiB p={p.parallelism}",
        "logins": logins,
        "login_ms_median": round(statistics.median(times), 1),
        "login_ms_max": round(max(times), 1),
        "login_with_totp_ms": round(totp_ms, 1),
        # the argon2 verification alone; the rest of a login is reading the user and committing the
        # login's update (an fsync of the encrypted file)
        "argon2_verify_ms_median": round(statistics.median(verify_ms), 1),
        "audit_entries": result.entries,
        "audit_build_s": round(build_s, 1),
        "audit_db_mb": round(size_mb, 1),
        "audit_verify_s": round(verify_s, 2),
        "audit_verify_us_per_entry": round(verify_s / max(1, result.entries) * 1e6, 2),
        "audit_intact": result.ok,
        "cpus": os.cpu_count(),
        # the machine is shared: a busy one stretches every figure above (argon2's 4 lanes on 2 cores most)
        "load_avg_1min_before_after": f"{load_before:.2f} / {os.getloadavg()[0]:.2f}",
    }
