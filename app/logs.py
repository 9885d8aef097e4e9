"""Logging set-up: a rotating file in the user log dir (or DATA_DIR/logs) and warnings on stderr.

Log lines carry bed labels, source kinds and technical states, never patient names, MRNs or birth dates.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

import platformdirs

LOG_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


def log_dir(data_dir: Path | None) -> Path:
    return (data_dir / "logs") if data_dir is not None else Path(platformdirs.user_log_dir("wardwatch"))


def setup_logging(data_dir: Path | None, verbose: bool = False) -> Path | None:
    """Configure the root logger once; returns the log file, or None if it could not be opened."""
    root = logging.getLogger()
    if getattr(root, "_wardwatch_configured", False):
        return None
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter("wardwatch: %(levelname)s %(message)s"))
    root.addHandler(console)
    path: Path | None = log_dir(data_dir) / "wardwatch.log"
    try:
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=5 * 2**20, backupCount=5, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    except OSError as exc:  # a full disk or a read-only home must not stop the station
        root.warning("cannot write the log file (%s); logging to the terminal only", exc.strerror or exc)
        path = None
    root._wardwatch_configured = True  # type: ignore[attr-defined]
    return path
