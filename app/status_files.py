"""The small JSON status files a running station rewrites every few seconds (interfaces, MQTT sharing), and
the commands that read them (`wardwatch interop status`, `wardwatch mqtt status`): is the writer alive,
and how old is a time stamp, in words."""

from __future__ import annotations

import os


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
