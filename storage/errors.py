"""What can go wrong opening the encrypted record, each with the exit code the command line uses.

Messages never carry the key or any patient data: they are shown to users and written to logs.
"""

from __future__ import annotations


class RecordError(Exception):
    """The record cannot be opened or used; `str(error)` is a message for a person."""

    exit_code = 10


class NoKeyringError(RecordError):
    exit_code = 11

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "no OS keyring is available to hold the database key"
            + (f" ({detail})" if detail else "")
            + ". On a desktop, unlock the login keyring (GNOME Keyring, KWallet); on a headless server,"
            " pass --key-file PATH (64 hexadecimal characters, mode 0600)."
        )


class KeyMissingError(RecordError):
    exit_code = 12

    def __init__(self, database: str) -> None:
        super().__init__(
            f"the database {database} exists but its key is not in the keyring and no --key-file was "
            "given; restore the key (or the key file) that belongs to it. Nothing was changed."
        )


class WrongKeyError(RecordError):
    exit_code = 13

    def __init__(self, database: str) -> None:
        super().__init__(
            f"the database key does not match this database ({database}), or the file is not a WardWatch "
            "database at all. Nothing was changed."
        )


class LockedError(RecordError):
    exit_code = 14

    def __init__(self, database: str) -> None:
        super().__init__(
            f"the database {database} is in use by another WardWatch station or command; "
            "stop it first (only one station may record into a database)."
        )


class KeyFileError(RecordError):
    exit_code = 15


class CorruptError(RecordError):
    exit_code = 16

    def __init__(self, database: str, detail: str) -> None:
        super().__init__(
            f"the database {database} is damaged ({detail}). It was left untouched; restore a backup "
            "(wardwatch restore) or move it aside to start a new one."
        )


class MigrationError(RecordError):
    """The schema upgrade of an older database failed; the transaction was rolled back."""

    exit_code = 18

    def __init__(
        self, database: str, before: str | None, after: str | None, detail: str, backup: str
    ) -> None:
        super().__init__(
            f"the database {database} could not be upgraded from schema {before or 'empty'} to {after} "
            f"({detail}). It was left as it was, still readable by the previous version of WardWatch; "
            f"a backup made just before is at {backup}."
        )


class NewerSchemaError(RecordError):
    """The database was written by a newer WardWatch (after a rollback of the program)."""

    exit_code = 19

    def __init__(self, database: str, found: str, known: str | None) -> None:
        super().__init__(
            f"the database {database} has schema {found}, written by a newer WardWatch; this version knows "
            f"schemas up to {known}. It was left untouched: start the newer version, or restore the backup "
            "that version made before its upgrade (in backups/ beside the database)."
        )
