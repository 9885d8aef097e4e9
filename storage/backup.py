"""Backups of the encrypted record, taken while the station runs, and restoring one in place.

A backup is SQLCipher's own export into a new database under the same key: it reads one consistent
snapshot (the station goes on writing meanwhile, WAL mode lets it), is never in plaintext on disk, and
is checked (opens with the key, passes the integrity check) before it takes its final name. A restore
checks the backup the same way before it touches anything, never deletes the database it replaces
(that moves aside as `wardwatch.db.before-restore-<UTC time>`), and refuses while a station holds the
record open.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import sqlcipher3
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from wardwatch.storage.database import (
    DATABASE_NAME,
    check_opens,
    clean_message,
    integrity_ok,
    lock_database,
    make_engine,
)
from wardwatch.storage.errors import CorruptError, RecordError
from wardwatch.storage.keys import DatabaseKey

log = logging.getLogger(__name__)

# Files SQLite keeps beside a database; they belong to it and move with it.
COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")


class BackupError(RecordError):
    """A backup cannot be made, or a file cannot be restored; nothing was changed."""

    exit_code = 17


def backup(engine: Engine, key: DatabaseKey, dest: Path) -> None:
    """Write an encrypted copy of the database behind `engine` to `dest`, under `key` (the record's own).

    Safe while the station records: the copy is one consistent snapshot. Refuses to overwrite `dest`.
    The copy is made under a temporary name beside `dest`, with mode 0600, checked, then renamed.
    """
    if dest.exists():
        raise BackupError(f"the backup file {dest} already exists; choose another name. Nothing was changed.")
    if not dest.parent.is_dir():
        raise BackupError(f"the folder {dest.parent} does not exist. Nothing was changed.")
    # mkstemp makes the file 0600 from the first byte; SQLite takes an empty file as an empty database
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _export(engine, key, tmp)
        _verify(tmp, key, what=f"the new backup of {dest.name}")
        _fsync(tmp)
        _rename_new(tmp, dest)
        _fsync(dest.parent)
    finally:
        for path in (tmp, *_companions(tmp)):
            path.unlink(missing_ok=True)
    log.info("backup written to %s", dest)


def backup_file(source: Path, key: DatabaseKey, dest: Path) -> None:
    """`backup` of the database file at `source` (for the command line, while a station may be running:
    no lock is taken and nothing is migrated; the station's writes go on meanwhile)."""
    if not source.is_file() or source.stat().st_size == 0:
        raise BackupError(f"there is no WardWatch database at {source}")
    engine = make_engine(source, key)
    try:
        check_opens(engine, source)
        backup(engine, key, dest)
    finally:
        engine.dispose()


def restore(source: Path, data_dir: Path, key: DatabaseKey, name: str = DATABASE_NAME) -> Path:
    """Put the backup `source` in place as the database `name` in `data_dir`; its path is returned.

    `source` must open with `key` and pass the integrity check (else WrongKeyError or BackupError, and
    nothing is changed). The database in place, if any, is moved aside with its -wal
    and -shm files to `<name>.before-restore-<UTC time>`, never deleted. Refused (LockedError) while a
    station or another command holds the record open.
    """
    if not source.is_file():
        raise BackupError(f"there is no backup file at {source}. Nothing was changed.")
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / name
    if path.exists() and path.samefile(source):
        raise BackupError(f"{source} is the database itself, not a backup of it. Nothing was changed.")
    # the lock first: a running station is refused at once, and none can start while we work
    lock = lock_database(path)
    aside: Path | None = None
    try:
        _verify(source, key, what=f"the backup {source}")
        fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".restoring", dir=data_dir)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            with source.open("rb") as src, tmp.open("wb") as out:
                shutil.copyfileobj(src, out)
                out.flush()
                os.fsync(out.fileno())
            aside = _move_aside(path)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        os.chmod(path, 0o600)
        _fsync(data_dir)
    finally:
        lock.close()  # closing the file releases its flock
    if aside is not None:
        log.info("restored %s from %s; the database it replaced is kept as %s", path, source, aside)
    else:
        log.info("restored %s from %s", path, source)
    return path


# -- helpers ---------------------------------------------------------------------------------------------


def _export(engine: Engine, key: DatabaseKey, target: Path) -> None:
    """SQLCipher's documented export: ATTACH the target under a key, sqlcipher_export, DETACH.

    The path and key are bound as parameters rather than spliced into the SQL, so neither can break the
    statement (a quote in a folder name) and the key never appears in a statement an error could show.
    """
    pooled = engine.raw_connection()
    try:
        conn = pooled.driver_connection
        assert conn is not None
        saved = conn.isolation_level
        # the driver must not open transactions of its own: ATTACH and DETACH are refused inside one
        conn.isolation_level = None
        try:
            conn.execute("ATTACH DATABASE ? AS backup KEY ?", (str(target), key.sqlcipher_literal()))
            try:
                # one transaction around the export: every table is copied from the same snapshot
                conn.execute("BEGIN")
                try:
                    conn.execute("SELECT count(*) FROM main.sqlite_master").fetchall()
                    conn.execute("SELECT sqlcipher_export('backup')").fetchall()
                    conn.execute("COMMIT")
                except BaseException:
                    # SQLite may have rolled back already; a second ROLLBACK would hide the cause
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            finally:
                conn.execute("DETACH DATABASE backup")
        finally:
            conn.isolation_level = saved
    except sqlcipher3.Error as exc:
        raise BackupError(
            f"the backup could not be written ({clean_message(str(exc))}). Nothing was changed."
        ) from None
    finally:
        pooled.close()


def _verify(path: Path, key: DatabaseKey, what: str) -> None:
    """`path` opens with `key` and SQLite's integrity check finds nothing wrong; `what` names the file
    in the error (a backup is no station database: CorruptError's advice would not fit)."""
    engine = make_engine(path, key)
    try:
        check_opens(engine, path)
        if not integrity_ok(engine):
            raise BackupError(f"{what} is damaged (its integrity check failed). Nothing was changed.")
    except CorruptError as exc:
        raise BackupError(f"{what} is damaged and cannot be used. Nothing was changed.") from exc
    except DBAPIError as exc:
        detail = clean_message(str(exc.orig or exc))
        raise BackupError(f"{what} is damaged and cannot be used ({detail}). Nothing was changed.") from None
    finally:
        engine.dispose()


def _companions(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in COMPANION_SUFFIXES]


def _move_aside(path: Path) -> Path | None:
    """Rename the database at `path` and its companion files to `<name>.before-restore-<UTC time>`
    (with the same -wal/-shm endings, so the set still opens as it was); None if there is none."""
    if not path.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.before-restore-{stamp}")
    n = 1
    while aside.exists() or any(p.exists() for p in _companions(aside)):
        n += 1
        aside = path.with_name(f"{path.name}.before-restore-{stamp}-{n}")
    for old, new in zip([path, *_companions(path)], [aside, *_companions(aside)], strict=True):
        if old.exists():
            os.rename(old, new)
    return aside


def _rename_new(tmp: Path, dest: Path) -> None:
    """Rename without ever replacing a file that appeared at `dest` meanwhile: link() fails if it exists."""
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise BackupError(f"the backup file {dest} already exists; choose another name.") from None
    except OSError:
        # file systems without hard links (some network shares): check, then rename
        if dest.exists():
            raise BackupError(f"the backup file {dest} already exists; choose another name.") from None
        os.replace(tmp, dest)
        return
    tmp.unlink()


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk so a power cut cannot lose a finished backup."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
