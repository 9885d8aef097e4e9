"""Outbound links: one thread per destination takes the oldest due messages from the encrypted outbox,
delivers them one at a time, and marks each one only once its receiver has taken it.

A message leaves the queue only on acceptance (HL7 `AA`/`CA`, HTTP 2xx). A refusal (`AE`/`AR`, HTTP 4xx)
is tried again with growing pauses and, after `max_refusals`, kept aside as refused for IT to look at. A
failure of the link itself (no connection, no answer within the timeout, HTTP 5xx) keeps the message
where it is and retries the link with back-off; the time the link has been down is what raises the
station's technical alarm.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_segment
from wardwatch.app.interop.mllp import FrameError, MllpReader, frame
from wardwatch.storage.interop_queue import OutboxQueue, QueuedMessage

log = logging.getLogger(__name__)

BATCH = 50
MAX_BACKOFF_S = 30.0
MAX_REFUSALS = 5
STATUS_EVERY_S = 1.0
# Accepted messages are marked in the outbox together, at most this many or this late: one commit per
# message (an fsync each) held a loopback link to ~70 messages/s. A crash in between sends them again,
# with the same control ids, which receivers use to drop repeats.
MARK_EVERY = 20
MARK_WITHIN_S = 0.2
ACK_VERSION = "2.6"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Delivery:
    outcome: Outcome
    detail: str = ""  # never patient data: codes, hosts and reasons only


class Transport(Protocol):
    target: str

    def deliver(self, message: QueuedMessage, timeout: float) -> Delivery: ...

    def close(self) -> None: ...


def client_tls(
    ca_file: str | None, cert_file: str | None = None, key_file: str | None = None
) -> ssl.SSLContext:
    """TLS for a link: the peer must show a certificate from `ca_file` (and its name must match)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
    if cert_file:
        context.load_cert_chain(cert_file, key_file)
    return context


@dataclass(frozen=True, slots=True)
class Ack:
    code: str
    control_id: str
    text: str


def read_ack(message: bytes) -> Ack:
    """MSA-1, MSA-2 and the error text of an ACK; raises ValueError if it is not one.

    Only the MSA (and ERR) segments go through hl7apy's segment parser: parsing the whole message took
    ~4 ms a time on this project's machines, a tenth of a loopback link's budget per message."""
    segments = {line[:3]: line for line in message.decode("utf-8", errors="replace").split("\r") if line}
    if "MSH" not in segments or "MSA" not in segments:
        raise ValueError("not an ACK (no MSH or MSA segment)")
    try:
        msa = parse_segment(segments["MSA"], version=ACK_VERSION, validation_level=VALIDATION_LEVEL.TOLERANT)
        code, control = msa.msa_1.to_er7().strip(), msa.msa_2.to_er7().strip()
        text = msa.msa_3.to_er7() if len(segments["MSA"].split("|")) > 3 else ""
        if "ERR" in segments:
            err = parse_segment(
                segments["ERR"], version=ACK_VERSION, validation_level=VALIDATION_LEVEL.TOLERANT
            )
            text = err.err_8.to_er7() or text
    except Exception as exc:  # hl7apy raises many kinds on bad input
        raise ValueError(f"unreadable ACK ({type(exc).__name__})") from None
    if not code:
        raise ValueError("ACK without MSA-1")
    return Ack(code, control, text[:200])


class MllpTransport:
    def __init__(
        self, host: str, port: int, tls: ssl.SSLContext | None = None, connect_timeout: float = 5.0
    ) -> None:
        self.host, self.port, self._tls = host, port, tls
        self.target = f"{'mllps' if tls else 'mllp'}://{host}:{port}"
        self._connect_timeout = connect_timeout
        self._sock: socket.socket | None = None
        self._reader = MllpReader()

    def _connect(self) -> socket.socket:
        if self._sock is None:
            sock = socket.create_connection((self.host, self.port), timeout=self._connect_timeout)
            if self._tls is not None:
                try:
                    sock = self._tls.wrap_socket(sock, server_hostname=self.host)
                except Exception:
                    sock.close()
                    raise
            self._sock = sock
            self._reader = MllpReader()
        return self._sock

    def deliver(self, message: QueuedMessage, timeout: float) -> Delivery:
        try:
            sock = self._connect()
            sock.settimeout(timeout)
            sock.sendall(frame(message.payload))
            deadline = time.monotonic() + timeout
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                sock.settimeout(remaining)
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("connection closed by the receiver")
                for item in self._reader.feed(data):
                    if isinstance(item, FrameError):
                        continue
                    answer = read_ack(item)
                    if answer.control_id != message.control_id:
                        continue  # a late answer to an earlier try: ours is still to come
                    if answer.code in ("AA", "CA"):
                        return Delivery(Outcome.ACCEPTED)
                    return Delivery(Outcome.REFUSED, f"{answer.code}: {answer.text}".strip(": "))
        except TimeoutError:
            self.close()  # the answer may still come on this connection; a new one starts clean
            return Delivery(Outcome.FAILED, f"no ACK from {self.target} within {timeout:g} s")
        except ssl.SSLError as exc:
            self.close()
            return Delivery(Outcome.FAILED, f"TLS with {self.target} failed: {exc.reason or exc}")
        except (OSError, ValueError) as exc:
            self.close()
            reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__
            return Delivery(Outcome.FAILED, f"{self.target}: {reason}")

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None


class FhirTransport:
    """POSTs transaction Bundles to a FHIR base URL."""

    def __init__(self, base_url: str, tls: ssl.SSLContext | None = None) -> None:
        self.target = base_url
        self._tls = tls

    def deliver(self, message: QueuedMessage, timeout: float) -> Delivery:
        request = urllib.request.Request(
            self.target,
            data=message.payload.encode("utf-8"),
            method="POST",
            headers={"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=self._tls) as response:
                response.read()
                return Delivery(Outcome.ACCEPTED)
        except urllib.error.HTTPError as exc:
            detail = f"HTTP {exc.code} from {self.target}"
            if exc.code in (408, 429) or exc.code >= 500:
                return Delivery(Outcome.FAILED, detail)
            return Delivery(Outcome.REFUSED, detail)
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return Delivery(Outcome.FAILED, f"{self.target}: {reason}")

    def close(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class LinkStatus:
    name: str
    target: str
    state: str  # "idle" (nothing to send), "up", "down"
    down_since: float | None = None
    last_error: str = ""
    sent: int = 0
    last_sent_at: float | None = None
    pending: int = 0
    refused: int = 0
    oldest_pending: float | None = None


class Link:
    """One destination and its thread."""

    def __init__(
        self,
        name: str,
        transport: Transport,
        queue: OutboxQueue,
        timeout: float,
        clock: Callable[[], float] = time.time,
        max_refusals: int = MAX_REFUSALS,
        max_backoff: float = MAX_BACKOFF_S,
    ) -> None:
        self.name = name
        self._transport = transport
        self._queue = queue
        self._timeout = timeout
        self._clock = clock
        self._max_refusals = max_refusals
        self._max_backoff = max_backoff
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0
        self._last_counts = 0.0
        self.status = LinkStatus(name, transport.target, "idle")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"interop-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(self._timeout + 5.0)
            self._thread = None
        self._transport.close()

    def wake(self) -> None:
        """New messages were queued: look now rather than at the next poll."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                pause = self._round()
            except Exception as exc:  # the record busy or failing: try again, never die
                log.exception("interop link %s round failed", self.name)
                self._down(f"{type(exc).__name__} while reading the queue")
                pause = self._backoff()
            self._refresh_counts()
            if pause > 0:
                self._wake.wait(pause)
                self._wake.clear()

    def _round(self) -> float:
        """Deliver what is due; returns how long to wait before the next round."""
        due = self._queue.due(self.name, BATCH, self._clock())
        if not due:
            if self.status.state != "down":
                self.status = replace(self.status, state="idle")
            return 1.0
        accepted: list[int] = []
        marked_at = time.monotonic()
        try:
            for message in due:
                if self._stop.is_set():
                    return 0.0
                result = self._transport.deliver(message, self._timeout)
                if result.outcome is Outcome.FAILED:
                    self._down(result.detail)
                    return self._backoff()
                now = self._clock()
                self._failures = 0
                if result.outcome is Outcome.ACCEPTED:
                    accepted.append(message.row_id)
                    self.status = replace(
                        self.status, state="up", down_since=None, sent=self.status.sent + 1, last_sent_at=now
                    )
                    if len(accepted) >= MARK_EVERY or time.monotonic() - marked_at >= MARK_WITHIN_S:
                        self._queue.mark_sent(accepted)
                        accepted, marked_at = [], time.monotonic()
                    continue
                attempts = message.attempts + 1
                log.warning(
                    "%s refused %s %s (try %d): %s",
                    self.name,
                    message.kind,
                    message.control_id,
                    attempts,
                    result.detail,
                )
                if attempts >= self._max_refusals:
                    self._queue.refuse(message.row_id, result.detail)
                else:
                    next_try = now + min(self._max_backoff, 2.0**attempts)
                    self._queue.retry_later(message.row_id, next_try, result.detail)
                self.status = replace(self.status, state="up", down_since=None, last_error=result.detail)
        finally:
            if accepted:
                self._queue.mark_sent(accepted)
        return 0.0

    def _down(self, detail: str) -> None:
        now = self._clock()
        if self.status.state != "down":
            log.warning("interop link %s down: %s", self.name, detail)
        self.status = replace(
            self.status, state="down", down_since=self.status.down_since or now, last_error=detail
        )
        self._failures += 1

    def _backoff(self) -> float:
        return min(self._max_backoff, 0.5 * 2.0 ** min(self._failures, 10))

    def _refresh_counts(self) -> None:
        now = time.monotonic()
        if now - self._last_counts < STATUS_EVERY_S:
            return
        self._last_counts = now
        try:
            backlog = self._queue.backlog(self.name)
        except Exception:
            return  # counts are for display; the next round tries again
        self.status = replace(
            self.status,
            pending=backlog.pending,
            refused=backlog.refused,
            oldest_pending=backlog.oldest_pending,
        )
