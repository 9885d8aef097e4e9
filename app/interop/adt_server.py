"""The inbound MLLP listener: ADT messages from the hospital's engine, answered with an ACK each.

One thread accepts; each connection gets its own thread (at most MAX_CONNECTIONS, engines keep one or
two). A message is read by the bounded framer, parsed, applied to the ward, remembered by control id and
answered; a message sent again (the engine missed our ACK) gets the same answer and is not applied
twice. Nothing the peer sends can stop the listener: garbage between frames and oversized frames are
dropped and counted, unreadable messages are answered AR, messages that cannot be applied AE.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from wardwatch.app.interop import hl7_messages
from wardwatch.app.interop.adt import AdtRefused, apply_adt, header, parse_adt
from wardwatch.app.interop.mllp import MAX_FRAME_BYTES, FrameError, MllpReader, frame
from wardwatch.app.interop.reports import Identity, hl7_time
from wardwatch.app.station import Station
from wardwatch.storage.interop_queue import InboundAnswer, OutboxQueue

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 8
IDLE_CLOSE_S = 600.0


@dataclass(frozen=True, slots=True)
class InboundStatus:
    port: int
    state: str  # "listening", "failed"
    connections: int = 0
    received: int = 0
    accepted: int = 0
    refused: int = 0
    dropped_frames: int = 0
    last_error: str = ""
    last_at: float | None = None


def server_tls(cert_file: str, key_file: str | None, ca_file: str | None) -> ssl.SSLContext:
    """TLS for the listener; with a CA file the engine must show a certificate signed by it."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ca_file)
    context.load_cert_chain(cert_file, key_file)
    context.verify_mode = ssl.CERT_REQUIRED if ca_file else ssl.CERT_NONE
    return context


class AdtServer:
    def __init__(
        self,
        station: Station,
        queue: OutboxQueue,
        identity: Identity,
        port: int,
        host: str = "0.0.0.0",
        tls: ssl.SSLContext | None = None,
        max_frame: int = MAX_FRAME_BYTES,
        clock: Callable[[], float] = time.time,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._station = station
        self._queue = queue
        self._identity = identity
        self._tls = tls
        self._max_frame = max_frame
        self._clock = clock
        self._on_change = on_change
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._counter = 0
        self._connections: set[socket.socket] = set()
        self._listener = socket.create_server((host, port), reuse_port=False)
        self._listener.settimeout(0.5)
        self.port = self._listener.getsockname()[1]
        self.status = InboundStatus(self.port, "listening")
        self._thread = threading.Thread(target=self._accept, name="interop-adt", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5.0)
        self._listener.close()
        with self._lock:
            for conn in list(self._connections):
                with contextlib.suppress(OSError):
                    conn.close()

    def _note(self, **changes: object) -> None:
        with self._lock:
            self.status = replace(self.status, **changes)  # type: ignore[arg-type]

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if self._stop.is_set():
                    return
                log.warning("ADT listener accept failed: %s", exc)
                time.sleep(0.5)
                continue
            with self._lock:
                full = len(self._connections) >= MAX_CONNECTIONS
                if not full:
                    self._connections.add(conn)
            if full:
                log.warning("ADT listener: connection refused, %d already open", MAX_CONNECTIONS)
                conn.close()
                continue
            self._note(connections=len(self._connections))
            threading.Thread(target=self._serve, args=(conn,), name="interop-adt-conn", daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        conn = raw
        try:
            if self._tls is not None:
                raw.settimeout(10.0)
                conn = self._tls.wrap_socket(raw, server_side=True)
            conn.settimeout(0.5)
            reader = MllpReader(self._max_frame)
            idle_since = time.monotonic()
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    if time.monotonic() - idle_since > IDLE_CLOSE_S:
                        return
                    continue
                if not data:
                    return
                idle_since = time.monotonic()
                for item in reader.feed(data):
                    if isinstance(item, FrameError):
                        self._dropped(item)
                        continue
                    conn.sendall(frame(self.answer(item)))
        except (OSError, ssl.SSLError) as exc:
            log.info("ADT connection ended: %s", type(exc).__name__)
        finally:
            with self._lock:
                self._connections.discard(raw)
            with contextlib.suppress(OSError):
                conn.close()
            self._note(connections=len(self._connections))

    def _dropped(self, error: FrameError) -> None:
        log.warning("ADT listener dropped %s input (%d bytes)", error.reason, error.size)
        self._note(dropped_frames=self.status.dropped_frames + 1, last_error=f"{error.reason} input dropped")

    def answer(self, raw: bytes) -> str:
        """The ACK (as ER7 text) for one framed message; never raises."""
        text = raw.decode("utf-8", errors="replace")
        head = header(text)
        now = self._clock()
        self._note(received=self.status.received + 1, last_at=now)
        try:
            previous = self._queue.inbound_answer(head.control_id) if head.control_id else None
            if previous is not None:
                log.info("ADT %s %s received again: answered as before", head.event, head.control_id)
                result = previous
            else:
                result = self._apply(text)
                if head.control_id:
                    self._queue.remember_inbound(head.control_id, head.event or "?", result)
        except Exception as exc:  # the record failing must not cost the engine its answer
            log.error("ADT %s could not be handled (%s)", head.event, type(exc).__name__)
            result = InboundAnswer("AE", f"station error ({type(exc).__name__})")
        if result.ack_code == "AA":
            self._note(accepted=self.status.accepted + 1)
        else:
            self._note(refused=self.status.refused + 1, last_error=f"{result.ack_code}: {result.ack_text}")
        return self._ack(head.control_id or "UNKNOWN", head.event, result, now)

    def _apply(self, text: str) -> InboundAnswer:
        try:
            message = parse_adt(text)
            done = apply_adt(self._station, message)
        except AdtRefused as refused:
            log.warning("ADT %s refused (%s): %s", header(text).event or "?", refused.code, refused.reason)
            return InboundAnswer(refused.code, refused.reason)
        log.info("ADT %s %s: %s", message.event, message.control_id, done)
        if self._on_change is not None:
            self._on_change()
        return InboundAnswer("AA", done)

    def _ack(self, control_id: str, event: str, result: InboundAnswer, now: float) -> str:
        with self._lock:
            self._counter += 1
            ack_id = f"WWACK{int(now * 1000):x}{self._counter:04d}"
        try:
            return hl7_messages.ack(
                control_id, result.ack_code, result.ack_text, self._identity, event, ack_id, now
            ).to_er7()
        except Exception:  # a control id hl7apy will not take: answer without it rather than not at all
            log.error("ACK for ADT could not be built")
            return f"MSH|^~\\&|WARDWATCH||||{hl7_time(now)}||ACK|{ack_id}|P|2.6\rMSA|AR|UNKNOWN\r"
