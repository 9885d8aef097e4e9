"""`wardwatch diagnostics --out FILE.zip`: what support needs to see, and nothing it must not.

The bundle holds the logs (which never carry patient data, see app/logs.py), versions, the config file
with anything secret-looking blanked, the list of files in the data dir (names and sizes, never their
content: the record and its backups stay where they are) and the devices' last reported status.
No database, no key, no patient name or number.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import re
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

from wardwatch.app.config import LoadedConfig, resolve_data_dir
from wardwatch.app.logs import log_dir
from wardwatch.app.run_marker import MARKER_NAME
from wardwatch.app.station import Station

MAX_LOG_BYTES = 50 * 2**20  # newest first; a support mail must stay sendable
PACKAGES = (
    "PySide6",
    "pyqtgraph",
    "numpy",
    "scipy",
    "wfdb",
    "SQLAlchemy",
    "alembic",
    "sqlcipher3",
    "bleak",
    "pyserial",
    "keyring",
)
_SECRET_KEY = re.compile(r"(?i)^(\s*[\w.-]*(key|password|secret|token|passphrase)[\w.-]*\s*=).*$")
# files in the data dir whose content never leaves the machine (their names and sizes are listed)
_NEVER = re.compile(r"(?i)\.(db|db-wal|db-shm|key|sqlite)$|backups")


def device_snapshot(station: Station) -> list[dict[str, object]]:
    """Each bed's device as its link badge knows it: kind, link state, detail, battery, loss, signal."""
    out: list[dict[str, object]] = []
    for bed in station.beds:
        streams = station.hub.streams(bed.bed_id)
        status = streams.status if streams is not None else None
        entry: dict[str, object] = {"bed": bed.label, "source": (bed.source_spec or "").partition(":")[0]}
        if status is not None:
            entry.update(
                state=str(status.state),
                detail=status.detail,
                battery_percent=status.battery_percent,
                loss_percent=status.loss_percent,
                rssi_dbm=status.rssi_dbm,
                decode_errors=status.decode_errors,
                last_data=streams.last_data if streams is not None else None,
            )
        out.append(entry)
    return out


def blank_secrets(text: str) -> str:
    lines = text.splitlines()
    return "\n".join(_SECRET_KEY.sub(lambda m: f'{m.group(1)} "<removed>"', line) for line in lines)


def versions_text() -> str:
    lines = [
        f"wardwatch {version('wardwatch')}",
        f"python {sys.version.split()[0]} ({'frozen build' if getattr(sys, 'frozen', False) else 'source'})",
        f"platform {platform.platform()}",
    ]
    for name in PACKAGES:
        try:
            lines.append(f"{name} {version(name)}")
        except Exception:
            lines.append(f"{name} not installed")
    return "\n".join(lines) + "\n"


def bundle(out: Path, loaded: LoadedConfig, data_dir_override: Path | None) -> list[str]:
    """Write the zip; the names of what it holds."""
    data_dir = resolve_data_dir(loaded.config)
    logs = log_dir(data_dir_override)
    names: list[str] = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:

        def add(name: str, text: str) -> None:
            z.writestr(name, text)
            names.append(name)

        add("versions.txt", versions_text())
        made = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        add("README.txt", f"WardWatch diagnostics, made {made}.\nNo database, key or patient data inside.\n")
        if loaded.path is not None and Path(loaded.path).is_file():
            add("config/wardwatch.toml", blank_secrets(Path(loaded.path).read_text("utf-8", "replace")))
        add("config/messages.txt", "\n".join(loaded.messages) + "\n")
        listing = []
        if data_dir.is_dir():
            for path in sorted(data_dir.rglob("*")):
                if path.is_file():
                    listing.append(f"{path.stat().st_size:>14} {path.relative_to(data_dir)}")
        add("data-dir.txt", f"{data_dir}\n" + "\n".join(listing) + "\n")
        marker = data_dir / MARKER_NAME
        if marker.is_file():
            add("station-status.json", json.dumps(json.loads(marker.read_text("utf-8")), indent=2))
        total = 0
        if logs.is_dir():
            for path in sorted(logs.glob("*.log*"), key=lambda p: p.stat().st_mtime, reverse=True):
                if _NEVER.search(path.name):
                    continue
                size = path.stat().st_size
                if total + size > MAX_LOG_BYTES:
                    break
                total += size
                z.write(path, f"logs/{path.name}")
                names.append(f"logs/{path.name}")
    return names
