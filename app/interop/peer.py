"""A small MLLP receiver on loopback, for the tests and `wardwatch bench interop`: it plays the
hospital's interface engine (answers ACKs, or AE, or drops the connection) and keeps what it took.

With `validate`, every message is parsed by hl7apy with its structure found and validated, the way a
strict engine would; the result is kept per control id.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message
from wardwatch.app.interop.adt import header
from wardwatch.app.interop.mllp import FrameError, MllpReader, frame


@dataclass
class Received:
    control_ids: list[str] = field(default_factory=list)  # in arrival order, repeats included
    messages: dict[str, str] = field(default_factory=dict)  # first copy of each control id
    invalid: dict[str, str] = field(default_factory=dict)  # control id -> why it did not validate

    @property
    def duplicates(self) -> int:
        return len(self.control_ids) - len(set(self.control_ids))


class MllpPeer:
    """mode: "ack" (AA), "ae" (AE), "drop" (close the connection on each message), "silent" (no answer)."""

    def __init__(
        self,
        port: int = 0,
        mode: str = "ack",
        validate: bool = True,
        tls: ssl.SSLContext | None = None,
        drop_first: int = 0,
        answer_delay: float = 0.0,
    ) -> None:
        self.mode = mode
        self.validate = validate
        self.drop_first = drop_first  # take (and store) this many messages, then drop the connection
        self.received = Received()
        self.answer_delay = answer_delay  # a slow engine
        self._tls = tls
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", port))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="mllp-peer", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        self._server.close()
        for conn in list(self._conns):
            with contextlib.suppress(OSError):
                conn.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            if self._tls is not None:
                try:
                    conn = self._tls.wrap_socket(conn, server_side=True)
                except (OSError, ssl.SSLError):
                    conn.close()
                    continue
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        reader = MllpReader()
        conn.settimeout(0.2)
        try:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    return
                for item in reader.feed(data):
                    if isinstance(item, FrameError):
                        continue
                    answer = self._take(item.decode("utf-8"))
                    if self.answer_delay:
                        time.sleep(self.answer_delay)
                    if answer is None:
                        conn.close()
                        return
                    if answer:
                        conn.sendall(frame(answer))
        except OSError:
            return
        finally:
            conn.close()

    def _take(self, text: str) -> str | None:
        control = header(text).control_id
        with self._lock:
            if self.mode == "drop":
                return None
            self.received.control_ids.append(control)
            first = control not in self.received.messages
            if first:
                self.received.messages[control] = text
            if self.drop_first > 0:
                self.drop_first -= 1
                if self.drop_first == 0:
                    return None  # stored, but the ACK never leaves: the sender must send it again
        if first and self.validate:
            try:
                msg = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
                msg.validate()
            except Exception as exc:
                self.received.invalid[control] = f"{type(exc).__name__}: {exc}"
        if self.mode == "silent":
            return ""
        code = "AE" if self.mode == "ae" else "AA"
        return f"MSH|^~\\&|PEER||||20250101000000||ACK^R01^ACK|A{control}|P|2.6\rMSA|{code}|{control}\r"
