"""A newer WardWatch opens a database made by an older one: backup first, then one migration transaction;
a migration that fails leaves the old database exactly as it was and says so."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from wardwatch.storage import database
from wardwatch.storage.database import current_revision, head_revision, make_engine, open_record
from wardwatch.storage.errors import MigrationError, NewerSchemaError
from wardwatch.storage.keys import DatabaseKey, read_key_file, write_key_file

ALARM_ROW = (
    "INSERT INTO alarm_events (time, bed_id, alarm_id, key, priority, action, user, detail) "
    "VALUES (1700000000.0, 'bed04', 7, 'hr_high', 'medium', 'raised', 'station', 'HR 142 > 120')"
)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "station.key"
    write_key_file(path, DatabaseKey.new())
    return path


def make_old_database(data_dir: Path, key_file: Path, revision: str = "0001") -> Path:
    """A database as the version with schema `revision` left it, holding one alarm event."""
    record = open_record(data_dir, key_file=key_file, migrate=False)
    try:
        config = database.alembic_config()
        with record.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            conn.exec_driver_sql(ALARM_ROW)
    finally:
        record.close()
    return data_dir / database.DATABASE_NAME


def alarm_rows(path: Path, key_file: Path) -> list[tuple[object, ...]]:
    engine = make_engine(path, read_key_file(key_file))
    try:
        with engine.connect() as conn:
            return list(conn.exec_driver_sql("SELECT bed_id, key, detail FROM alarm_events").fetchall())
    finally:
        engine.dispose()


def tables(path: Path, key_file: Path) -> set[str]:
    engine = make_engine(path, read_key_file(key_file))
    try:
        with engine.connect() as conn:
            return {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        engine.dispose()


def test_an_older_database_is_backed_up_then_upgraded_with_its_data_intact(tmp_path, key_file):
    path = make_old_database(tmp_path / "data", key_file)
    record = open_record(tmp_path / "data", key_file=key_file)
    try:
        assert current_revision(record.engine) == head_revision()
    finally:
        record.close()
    assert alarm_rows(path, key_file) == [("bed04", "hr_high", "HR 142 > 120")]
    (backup,) = (tmp_path / "data" / database.BACKUP_DIR).iterdir()
    assert backup.name.startswith(f"wardwatch-schema0001-before-{head_revision()}-")
    assert backup.stat().st_mode & 0o777 == 0o600
    # the backup is the old database, as the previous version can open it
    engine = make_engine(backup, read_key_file(key_file))
    try:
        assert current_revision(engine) == "0001"
    finally:
        engine.dispose()
    assert alarm_rows(backup, key_file) == alarm_rows(path, key_file)


def test_a_new_database_and_a_current_one_are_not_backed_up(tmp_path, key_file):
    open_record(tmp_path / "data", key_file=key_file).close()
    open_record(tmp_path / "data", key_file=key_file).close()
    assert not (tmp_path / "data" / database.BACKUP_DIR).exists()


def test_a_failed_migration_leaves_the_old_database_untouched_and_says_so(tmp_path, key_file, monkeypatch):
    # the shipped migrations, with a newest one that changes the schema and then fails half-way
    scripts = tmp_path / "migrations"
    shutil.copytree(resources.files("wardwatch.storage") / "migrations", scripts)
    (scripts / "versions" / "v0099_broken.py").write_text(
        f'''revision = "0099"
down_revision = "{head_revision()}"
branch_labels = None
depends_on = None
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("DELETE FROM alarm_events")
    raise RuntimeError("disk said no")


def downgrade():
    pass
'''
    )

    def broken_config() -> Config:
        config = Config()
        config.set_main_option("script_location", str(scripts))
        return config

    path = make_old_database(tmp_path / "data", key_file, revision=str(head_revision()))
    before = tables(path, key_file)
    monkeypatch.setattr(database, "alembic_config", broken_config)
    with pytest.raises(MigrationError, match="left as it was") as failure:
        open_record(tmp_path / "data", key_file=key_file)
    assert "disk said no" in str(failure.value) and "backup" in str(failure.value)
    monkeypatch.undo()
    assert tables(path, key_file) == before
    assert alarm_rows(path, key_file) == [("bed04", "hr_high", "HR 142 > 120")]
    engine = make_engine(path, read_key_file(key_file))
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    # and it is not locked: the previous version (or this one, fixed) opens it again
    open_record(tmp_path / "data", key_file=key_file).close()


def test_a_database_from_a_newer_version_is_refused_untouched_after_a_rollback(tmp_path, key_file):
    path = make_old_database(tmp_path / "data", key_file, revision=str(head_revision()))
    engine = make_engine(path, read_key_file(key_file))
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0999'")
    engine.dispose()
    with pytest.raises(NewerSchemaError, match="newer WardWatch"):
        open_record(tmp_path / "data", key_file=key_file)
    assert not (tmp_path / "data" / database.BACKUP_DIR).exists()
    assert alarm_rows(path, key_file) == [("bed04", "hr_high", "HR 142 > 120")]
