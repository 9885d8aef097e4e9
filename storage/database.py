"""Opening the encrypted record: one SQLCipher file, its key, a lock, WAL mode and migrations.

`open_record` is the only way in. It refuses a second station on the same file (an OS file lock held
while the record is open), tells a wrong key from a damaged file, never creates a plaintext database
and brings the schema up to date (alembic) before anyone reads or writes.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import IO

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DatabaseError, OperationalError
from wardwatch.storage.errors import (
    CorruptError,
    KeyMissingError,
    LockedError,
    MigrationError,
    NewerSchemaError,
    RecordError,
    WrongKeyError,
)
from wardwatch.storage.keys import DatabaseKey, keyring_key, read_key_file
from wardwatch.storage.reader import RecordReader

log = logging.getLogger(__name__)

DATABASE_NAME = "wardwatch.db"
BACKUP_DIR = "backups"  # backups the station makes itself (before a schema upgrade)
# Readers and the writer wait this long for each other rather than failing at once.
BUSY_TIMEOUT_MS = 5000
# Page cache per connection. The writer appends and needs little: 1 MB keeps the station's memory flat
# (SQLite's 2 MB default grew it 7.9 % over 10 min of 32 beds). Review queries re-read the same pages
# (a bed's day of trends is ~3.5 MB, decrypted page by page): 16 MB lets a repeated query run ~6× faster.
WRITER_CACHE_KIB = 1024
READER_CACHE_KIB = 16384


@dataclass
class Record:
    """An open record: its engine, the lock that keeps other stations out, and where it lives.
    `reader()` reads through a second engine whose connections keep a larger page cache."""

    path: Path
    engine: Engine
    _lock: IO[bytes] | None
    _key: DatabaseKey
    _reading: Engine | None = None

    def reader(self) -> RecordReader:
        if self._reading is None:
            self._reading = make_engine(self.path, self._key, READER_CACHE_KIB)
        return RecordReader(self._reading)

    def close(self) -> None:
        self.engine.dispose()
        if self._reading is not None:
            self._reading.dispose()
            self._reading = None
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None


def resolve_key(path: Path, key_file: Path | None, create: bool) -> DatabaseKey:
    """The key for the database at `path`: from `key_file` if given, else from the OS keyring (made
    and stored there on first run, when `create`)."""
    if key_file is not None:
        return read_key_file(key_file)
    key = keyring_key(path, create=create and not path.exists())
    if key is None:
        raise KeyMissingError(str(path))
    return key


def make_engine(path: Path, key: DatabaseKey, cache_kib: int = WRITER_CACHE_KIB) -> Engine:
    url = URL.create("sqlite+pysqlcipher", password=key.sqlcipher_literal(), database=str(path))
    # insertmanyvalues (SQLAlchemy 2) kept only the first page of 1000 rows of a multi-row insert on
    # this dialect (seen with SQLAlchemy 2.0.x and sqlcipher3 0.6): plain executemany inserts them all
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        use_insertmanyvalues=False,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        # SQLCipher would otherwise print "ERROR CORE ..." lines to stderr on a wrong key.
        cursor.execute("PRAGMA cipher_log_level = NONE")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
        cursor.close()

    return engine


def make_ddl_engine(path: Path, key: DatabaseKey) -> Engine:
    """An engine whose transactions take schema changes too, for migrations.

    The sqlite3 driver opens a transaction only before INSERT/UPDATE/DELETE, so CREATE/ALTER/DROP would
    commit on their own and a migration failing half-way would leave a half-changed schema. Here the
    driver's own handling is switched off and every transaction starts with an explicit BEGIN
    (SQLAlchemy's documented recipe for pysqlite)."""
    engine = make_engine(path, key)

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.isolation_level = None  # type: ignore[attr-defined]

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def lock_database(path: Path) -> IO[bytes]:
    lock = open(path.with_name(path.name + ".lock"), "ab")  # noqa: SIM115 - held while the record is open
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise LockedError(str(path)) from None
    return lock


def check_opens(engine: Engine, path: Path) -> None:
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
    except DatabaseError as exc:
        text_ = str(exc.orig) if exc.orig is not None else str(exc)
        if "file is not a database" in text_ or "not a database" in text_:
            raise WrongKeyError(str(path)) from None
        raise CorruptError(str(path), clean_message(text_)) from None


def clean_message(message: str) -> str:
    """An SQLite message without anything that could carry the key (a URL or a pragma's argument)."""
    return re.sub(r"x'[0-9a-fA-F]+'", "x'…'", message.splitlines()[0])[:200]


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("wardwatch.storage") / "migrations"))
    return config


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Bring the schema to the newest migration; (revision before, revision after)."""
    config = alembic_config()
    with engine.begin() as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    with engine.connect() as conn:
        after = MigrationContext.configure(conn).get_current_revision()
    return before, after


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def backup_before_upgrade(engine: Engine, key: DatabaseKey, path: Path, before: str, head: str) -> Path:
    """An encrypted copy of an older database in `backups/` beside it, made before its schema changes,
    so that going back to the previous WardWatch is always possible."""
    folder = path.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True, mode=0o700)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    dest = folder / f"{path.stem}-schema{before}-before-{head}-{stamp}{path.suffix}"
    from wardwatch.storage.backup import backup  # backup imports this module

    backup(engine, key, dest)
    return dest


def known_revision(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except Exception:  # alembic's own "can't locate revision"
        return False


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def open_record(
    data_dir: Path,
    key_file: Path | None = None,
    create: bool = True,
    migrate: bool = True,
    name: str = DATABASE_NAME,
) -> Record:
    """Open (or, with `create`, make) the station's encrypted record in `data_dir`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / name
    existed = path.exists() and path.stat().st_size > 0
    if not existed and not create:
        raise RecordError(f"there is no WardWatch database at {path}")
    key = resolve_key(path, key_file, create=create)
    lock = lock_database(path)
    try:
        engine = make_engine(path, key)
        check_opens(engine, path)
        with engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode = WAL").scalar()
        if str(mode).lower() != "wal":
            log.warning("the database did not switch to WAL mode (%s)", mode)
        if migrate:
            _migrate(engine, key, path, existed)
        if not existed:
            os.chmod(path, 0o600)
        return Record(path, engine, lock, key)
    except RecordError:
        lock.close()
        raise
    except OperationalError as exc:
        lock.close()
        raise CorruptError(str(path), clean_message(str(exc.orig or exc))) from None
    except BaseException:
        lock.close()
        raise


def _migrate(engine: Engine, key: DatabaseKey, path: Path, existed: bool) -> None:
    before, head = current_revision(engine), head_revision()
    if before == head:
        return
    if before is not None and not known_revision(before):
        raise NewerSchemaError(str(path), before, head)
    backup = None
    if existed and before is not None and head is not None:
        backup = backup_before_upgrade(engine, key, path, before, head)
        log.info("backup of the schema %s database written before its upgrade to %s", before, head)
    ddl = make_ddl_engine(path, key)
    try:
        before, after = upgrade(ddl)  # one transaction: a failure leaves the old schema and data
    except Exception as exc:
        if backup is None:
            raise
        log.error("schema upgrade from %s to %s failed", before, head, exc_info=exc)
        raise MigrationError(str(path), before, head, clean_message(str(exc)), str(backup)) from None
    finally:
        ddl.dispose()
    log.info("database schema migrated from %s to %s", before or "empty", after)


def open_for_reading(data_dir: Path, key_file: Path | None = None, name: str = DATABASE_NAME) -> Record:
    """Open the record to read it while a station may be recording into it (WAL lets readers and
    the writer work side by side): no lock, no migration, never creates anything."""
    path = data_dir / name
    if not path.exists() or path.stat().st_size == 0:
        raise RecordError(f"there is no WardWatch database at {path}")
    key = resolve_key(path, key_file, create=False)
    engine = make_engine(path, key, READER_CACHE_KIB)
    check_opens(engine, path)
    return Record(path, engine, None, key, engine)


def integrity_ok(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
