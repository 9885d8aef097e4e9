"""The one contract every source implements, and a threaded base that makes any failure visible."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Protocol, TypeVar

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
T = TypeVar("T")


def stop_thread(stop: threading.Event, thread: threading.Thread | None, timeout_s: float = 5.0) -> None:
    """Ask a worker loop to end and wait for it (not when called from that very thread)."""
    stop.set()
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout=timeout_s)


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
        stop_thread(self._stop, self._thread)
        self._thread = None
        if self._status.state is not LinkState.FAILED:
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
            self.fail(exc)

    def fail(self, exc: Exception) -> None:
        """Turn an exception of this source into a FAILED status and a technical event on its bed."""
        log.error("source %s on bed %s failed", self.source_id, self.bed, exc_info=exc)
        # A SourceError's message is written for the user; anything else stays in the log.
        detail = str(exc) if isinstance(exc, SourceError) else f"internal error ({type(exc).__name__})"
        self._set_status(LinkState.FAILED, detail)
        if self._sink is not None:
            self._sink.push_event(
                TechnicalEvent(self.bed, TechnicalKind.SOURCE_FAILED, True, self.clock.now(), detail)
            )

    @abstractmethod
    def run(self, sink: Sink, stop: threading.Event) -> None:
        """Produce data until `stop` is set. Runs on the source's own thread."""


class SteppedSource(ThreadedSource):
    """A source whose work is a short pass now and then (a simulated bed).

    On its own it runs `begin()` then `step()` on its own thread, like any ThreadedSource. Given a
    `SharedRunner`, it is stepped on the runner's one thread together with the other light sources:
    64 simulated beds on 64 threads cost twice the CPU of the same work on one, and their wake-ups
    fight the GUI thread for the GIL (measured: 23-31 fps at 64 beds against a steady 30+).
    """

    def __init__(self, source_id: str, bed: str, clock: Clock, runner: SharedRunner | None = None) -> None:
        super().__init__(source_id, bed, clock)
        self.runner = runner

    @abstractmethod
    def begin(self) -> None:
        """Set the source's origin; called once, just before the first step."""

    @abstractmethod
    def step(self, sink: Sink) -> float:
        """Push what is due now; return the station seconds until the next step is wanted."""

    def run(self, sink: Sink, stop: threading.Event) -> None:
        self.begin()
        while not stop.is_set():
            if self.clock.wait(self.step(sink), stop):
                break

    def start(self, sink: Sink) -> None:
        if self.runner is None:
            super().start(sink)
            return
        self._sink = sink
        self._set_status(LinkState.STARTING)
        self.begin()
        self.runner.add(self)

    def stop(self) -> None:
        if self.runner is None:
            super().stop()
            return
        self.runner.remove(self)
        if self._status.state is not LinkState.FAILED:
            self._set_status(LinkState.STOPPED)


class SharedRunner:
    """One thread stepping many `SteppedSource`s in turn, every `interval_s` of wall time.

    A source that raises is marked FAILED and dropped; the others go on.
    """

    def __init__(self, clock: Clock, interval_s: float = 0.04, name: str = "shared-sources") -> None:
        self._clock = clock
        self._interval = interval_s
        self._name = name
        self._members: tuple[SteppedSource, ...] = ()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, source: SteppedSource) -> None:
        with self._lock:
            self._members = (*self._members, source)
            if self._thread is None:
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def remove(self, source: SteppedSource) -> None:
        with self._lock:
            self._members = tuple(m for m in self._members if m is not source)

    def stop(self) -> None:
        stop_thread(self._stop, self._thread)
        self._thread = None

    def _run(self) -> None:
        # Station seconds per pass: at speed > 1 keep the wall-time cadence and push larger blocks.
        interval = self._interval * max(1.0, self._clock.speed)
        while not self._stop.is_set():
            for source in self._members:
                sink = source._sink
                if sink is None:
                    continue
                try:
                    source.step(sink)
                except Exception as exc:
                    self.remove(source)
                    source.fail(exc)
            if self._clock.wait(interval, self._stop):
                break


class SharedResources:
    """Things several sources of one station share (the Bluetooth loop), made on first use and closed
    with the station. Keyed by name so that app/ needs to know nothing about what they are."""

    def __init__(self) -> None:
        self._items: dict[str, object] = {}
        self._closers: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def get(self, key: str, make: Callable[[], T], close: Callable[[T], None] | None = None) -> T:
        with self._lock:
            if key not in self._items:
                item = make()
                self._items[key] = item
                if close is not None:
                    self._closers.append(lambda: close(item))
            return self._items[key]  # type: ignore[return-value]

    def put(self, key: str, item: object, close: Callable[[], None] | None = None) -> None:
        """Provide a resource made elsewhere (a test's virtual Bluetooth radio)."""
        with self._lock:
            self._items[key] = item
            if close is not None:
                self._closers.append(close)

    def close(self) -> None:
        with self._lock:
            closers, self._closers = self._closers[::-1], []
            self._items.clear()
        for close in closers:
            try:
                close()
            except Exception:
                log.exception("closing a shared resource failed")
