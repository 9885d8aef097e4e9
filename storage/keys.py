"""The database key: 256 random bits, kept in the OS keyring or, on headless servers, in a key file.

The key travels as a `DatabaseKey`, whose repr and str never show it, so it cannot end up in a log
line or an exception message by accident.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from wardwatch.storage.errors import KeyFileError, NoKeyringError

KEYRING_SERVICE = "WardWatch database key"
KEY_BYTES = 32


class DatabaseKey:
    __slots__ = ("_raw",)

    def __init__(self, raw: bytes) -> None:
        if len(raw) != KEY_BYTES:
            raise ValueError("a database key is 32 bytes")
        self._raw = raw

    @classmethod
    def new(cls) -> DatabaseKey:
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def from_hex(cls, text: str) -> DatabaseKey:
        return cls(bytes.fromhex(text))

    def hex(self) -> str:
        return self._raw.hex()

    def sqlcipher_literal(self) -> str:
        """SQLCipher's raw-key form (no key derivation): x'<64 hex>'."""
        return f"x'{self._raw.hex()}'"

    def __repr__(self) -> str:
        return "<DatabaseKey hidden>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DatabaseKey) and secrets.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash(self._raw)


def read_key_file(path: Path) -> DatabaseKey:
    """A key file holds the key as 64 hexadecimal characters and must be readable by its owner only."""
    try:
        st = path.stat()
    except OSError as exc:
        raise KeyFileError(f"cannot read the key file {path}: {exc.strerror}") from None
    if stat.S_IMODE(st.st_mode) & 0o077:
        raise KeyFileError(
            f"the key file {path} is readable by others (mode {stat.S_IMODE(st.st_mode):04o}); "
            f"restrict it with: chmod 600 {path}"
        )
    text = path.read_text("ascii", errors="replace").strip()
    if len(text) != 2 * KEY_BYTES or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise KeyFileError(f"the key file {path} must hold exactly 64 hexadecimal characters")
    return DatabaseKey.from_hex(text)


def write_key_file(path: Path, key: DatabaseKey) -> None:
    """Create a key file with mode 0600 (for headless servers and tests)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key.hex() + "\n")
    os.chmod(path, 0o600)


def _keyring() -> object:
    try:
        import keyring
        from keyring.backends import fail
    except ImportError as exc:  # pragma: no cover - keyring is a dependency
        raise NoKeyringError(str(exc)) from None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        raise NoKeyringError("keyring found no backend")
    return keyring


def keyring_key(database: Path, create: bool) -> DatabaseKey | None:
    """The key stored for `database` (its absolute path names the entry); a new one is stored when
    `create` and there is none. None when there is none and `create` is false."""
    kr = _keyring()
    from keyring.errors import KeyringError

    account = str(database.resolve())
    try:
        stored = kr.get_password(KEYRING_SERVICE, account)  # type: ignore[attr-defined]
        if stored:
            return DatabaseKey.from_hex(stored)
        if not create:
            return None
        key = DatabaseKey.new()
        kr.set_password(KEYRING_SERVICE, account, key.hex())  # type: ignore[attr-defined]
        return key
    except KeyringError as exc:
        raise NoKeyringError(type(exc).__name__) from None
    except ValueError:
        raise NoKeyringError("the keyring entry is not a WardWatch key") from None
