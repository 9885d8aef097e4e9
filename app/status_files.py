"""The small JSON status files a running station rewrites every few seconds (interfaces, MQTT sharing), and
the commands that read them (`wardwatch interop status`, `wardwatch mqtt status`): is the writer alive,
and how old is a time stamp, in words."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def pid_alive(pid: object) -> bool:
    """Whether a process with this id runs: a status file outliving a killed station must not read live."""
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def age_text(when: float | None, now: float) -> str:
    """"12 s ago" or "5 min ago"; "-" when there is no time."""
    if not when:
        return "-"
    seconds = now - when
    return f"{seconds:.0f} s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago"


def write_status_file(path: Path, data: dict[str, Any], what: str) -> None:
    """Replace the file whole (a reader never sees half of it); a failure is logged, never raised: the
    status file is a convenience, the station goes on without it."""
    try:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        log.warning("%s status file not written: %s", what, exc.strerror or exc)


def read_status_file(path: Path) -> dict[str, Any] | None:
    """The status as its station last wrote it, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def written_by_live_station(data: dict[str, Any], stale_after_s: float) -> bool:
    """Whether the station that wrote `data` still runs: recently updated, and its process alive."""
    updated = data.get("updated", 0)
    return (
        isinstance(updated, int | float)
        and time.time() - updated < stale_after_s
        and pid_alive(data.get("pid"))
    )
