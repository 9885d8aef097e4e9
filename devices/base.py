"""The one contract every source implements, and a threaded base that makes any failure visible."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from typing import Protocol

from wardwatch.app.clock import Clock
from wardwatch.app.domain import (
    DeviceStatus,
    LinkState,
    Observation,
    TechnicalEvent,
    TechnicalKind,
    WaveformBlock,
)

log = logging.getLogger(__name__)


class Sink(Protocol):
    """Where a source pushes what it measures (the StreamHub). Safe to call from any thread."""

    def push_block(self, block: WaveformBlock) -> None: ...

    def push_observation(self, obs: Observation) -> None: ...

    def push_event(self, event: TechnicalEvent) -> None: ...

    def set_status(self, bed: str, status: DeviceStatus) -> None: ...


class Source(Protocol):
    """A device feeding one bed. Started with a sink by the composition root, stopped on shutdown."""

    source_id: str
    bed: str

    def start(self, sink: Sink) -> None: ...

    def stop(self) -> None: ...

    @property
    def status(self) -> DeviceStatus: ...


class SourceError(Exception):
    """A source cannot be built or started; the message is meant for the user and carries no PHI."""


class ThreadedSource(ABC):
    """A source that runs `run()` on its own daemon thread.

    Whatever `run()` raises becomes a FAILED status and a SOURCE_FAILED technical event on the bed;
    the rest of the station keeps running.
    """

    kind: str = "source"

    def __init__(self, source_id: str, bed: str, clock: Clock) -> None:
        self.source_id = source_id
        self.bed = bed
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sink: Sink | None = None
        self._status = DeviceStatus(source_id, self.kind, LinkState.STOPPED)

    @property
    def status(self) -> DeviceStatus:
        return self._status

    def _set_status(self, state: LinkState, detail: str = "", **extra: object) -> None:
        self._status = DeviceStatus(self.source_id, self.kind, state, detail, **extra)  # type: ignore[arg-type]
        if self._sink is not None:
            self._sink.set_status(self.bed, self._status)

    def start(self, sink: Sink) -> None:
        if self._thread is not None:
            raise SourceError(f"source {self.source_id} already started")
        self._sink = sink
        self._stop.clear()
        self._set_status(LinkState.STARTING)
        self._thread = threading.Thread(target=self._guarded_run, name=f"src-{self.source_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._thread = None
        if self._status.state not in (LinkState.FAILED,):
            self._set_status(LinkState.STOPPED)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _guarded_run(self) -> None:
        sink = self._sink
        assert sink is not None
        try:
            self.run(sink, self._stop)
        except Exception as exc:
            log.exception("source %s on bed %s failed", self.source_id, self.bed)
            # A SourceError's message is written for the user; anything else stays in the log.
            detail = str(exc) if isinstance(exc, SourceError) else f"internal error ({type(exc).__name__})"
            self._set_status(LinkState.FAILED, detail)
            sink.push_event(
                TechnicalEvent(self.bed, TechnicalKind.SOURCE_FAILED, True, self.clock.now(), detail)
            )

    @abstractmethod
    def run(self, sink: Sink, stop: threading.Event) -> None:
        """Produce data until `stop` is set. Runs on the source's own thread."""
