"""The arrhythmia analysis's own process, fed only the samples that are new since its last request.

Analysing 64 beds once a second over a 32 s window used to mean copying, resampling and sending
every bed's whole window from the station process each second (about 12 MB/s through the pipe, and
the resampling under the station's interpreter lock, where it delayed display frames: measured frame
p99 35-40 ms at 64 beds against 25 ms with no analysis at all). Now the station sends each bed's new
samples (about a second's worth, ~5 kB) and the worker keeps the windows (`BedWindows`), resamples
them and runs the screening and verification.

The worker keeps state, so it checks that it holds what an update continues: a worker started
again after a crash answers `MissingWindow`, and the station sends that bed's whole window next time.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import pickle
import queue
import threading
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from wardwatch.app.alarms.arrhythmia import MAX_LAG_S, RawWave, analyse_window, resample
from wardwatch.app.alarms.findings import Finding
from wardwatch.app.alarms.model import Priority

log = logging.getLogger(__name__)

# How often the station checks that the worker is still alive while waiting for its answers.
_WATCH_S = 0.5


@dataclass(frozen=True, slots=True)
class WaveChunk:
    """New samples of one channel; `replace` = these are the whole window, forget what came before
    (the first chunk of a channel, or the station lost track of what the worker has)."""

    times: npt.NDArray[np.float64]
    values: npt.NDArray[np.float32]
    replace: bool = False


@dataclass(frozen=True, slots=True)
class WaveUpdate:
    """One request: a bed's new samples, and how to analyse the window they complete."""

    bed: str
    window_s: float
    priority: Priority
    chunks: dict[str, WaveChunk] = field(default_factory=dict)
    off: frozenset[str] = frozenset()  # channels a technical condition says are off
    reset: bool = False  # forget everything held for this bed first (its source was replaced)


class MissingWindow(Exception):
    """The worker does not hold the window this update continues (it was started again)."""


class BedWindows:
    """The worker's per-bed, per-channel sample windows (the last window plus a margin)."""

    def __init__(self) -> None:
        self._beds: dict[str, dict[str, RawWave]] = {}

    def apply(self, update: WaveUpdate) -> dict[str, RawWave]:
        if update.reset:
            self._beds.pop(update.bed, None)
        elif update.bed not in self._beds:
            raise MissingWindow(update.bed)
        waves = self._beds.setdefault(update.bed, {})
        if any(not c.replace and n not in waves for n, c in update.chunks.items()):
            raise MissingWindow(update.bed)
        # The analysis grid ends where the slowest channel is, at most MAX_LAG_S behind a channel's
        # newest sample; keep a second more than that so the grid's start is always covered.
        keep_s = update.window_s + MAX_LAG_S + 1.0
        for name, chunk in update.chunks.items():
            old = None if chunk.replace else waves.get(name)
            if old is None:
                times, values = chunk.times, chunk.values
            else:
                times = np.concatenate((old[0], chunk.times))
                values = np.concatenate((old[1], chunk.values))
            if len(times):
                k = int(np.searchsorted(times, times[-1] - keep_s, side="left"))
                times, values = times[k:], values[k:]
            waves[name] = (times, values)
        return waves

    def analyse(self, update: WaveUpdate) -> list[Finding]:
        waves = self.apply(update)
        signals = resample({n: w for n, w in waves.items() if n not in update.off}, update.window_s)
        if not signals:
            return []
        return analyse_window(signals, update.priority)


def _exit_with_parent(parent: int) -> None:
    """End this process when the station's is gone (killed, crashed), instead of lingering as an
    orphan that holds memory until the PC restarts."""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _portable(exc: Exception) -> Exception:
    """The exception itself if it can cross to the station, else its text in a RuntimeError."""
    try:
        pickle.dumps(exc)
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def serve(requests: Any, answers: Any, parent: int) -> None:
    """The worker process's loop: (id, update) in, (id, findings, error) out, until None arrives."""
    _exit_with_parent(parent)
    windows = BedWindows()
    while True:
        item = requests.get()
        if item is None:
            return
        request_id, update = item
        try:
            answers.put((request_id, windows.analyse(update), None))
        except Exception as exc:
            answers.put((request_id, None, _portable(exc)))


def _abandon(requests: Any) -> None:
    """Let the station exit although requests are still unsent. A worker that was killed, or fell
    behind, leaves the queue's feeder thread blocked on a full pipe; multiprocessing joins that thread
    at interpreter exit, so a headless station hung there after its last line."""
    if requests is None:
        return
    with contextlib.suppress(OSError, ValueError):
        requests.cancel_join_thread()
        requests.close()


class AnalysisWorker:
    """The station's side of the worker: `submit` returns a Future; a worker that dies fails every
    waiting Future (the engine shows "Arrhythmia analysis off" on those beds) and the next `submit`
    starts a new one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._process: Any = None
        self._requests: Any = None
        self._pending: dict[int, Future[list[Finding]]] = {}

    def submit(self, update: WaveUpdate) -> Future[list[Finding]]:
        future: Future[list[Finding]] = Future()
        with self._lock:
            if self._process is None or not self._process.is_alive():
                self._start()
            request_id = next(self._ids)
            self._pending[request_id] = future
            self._requests.put((request_id, update))
        return future

    def _start(self) -> None:
        if self._process is not None:
            log.warning(
                "the arrhythmia analysis process stopped (exit code %s); starting a new one",
                self._process.exitcode,
            )
            self._fail_pending("the arrhythmia analysis process stopped")
            _abandon(self._requests)
        # spawn, not fork: forking a process that runs Qt and several threads is not safe
        ctx = multiprocessing.get_context("spawn")
        requests, answers = ctx.Queue(), ctx.Queue()
        process = ctx.Process(
            target=serve, args=(requests, answers, os.getpid()), name="wardwatch-analysis", daemon=True
        )
        process.start()
        self._process, self._requests = process, requests
        threading.Thread(
            target=self._collect, args=(process, answers), name="analysis-answers", daemon=True
        ).start()

    def _collect(self, process: Any, answers: Any) -> None:
        """Hand the worker's answers to their Futures until that worker is gone."""
        while True:
            try:
                request_id, findings, error = answers.get(timeout=_WATCH_S)
            except queue.Empty:
                if process.is_alive():
                    continue
                with self._lock:
                    if self._process is process:
                        self._fail_pending("the arrhythmia analysis process stopped")
                        self._process = None
                return
            except (EOFError, OSError):
                return
            with self._lock:
                future = self._pending.pop(request_id, None)
            if future is None:
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(findings)

    def _fail_pending(self, why: str) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(BrokenProcessPool(why))

    def shutdown(self) -> None:
        with self._lock:
            process, requests = self._process, self._requests
            self._process = None
            self._fail_pending("the station is closing")
        if process is None:
            return
        with contextlib.suppress(OSError, ValueError):
            requests.put(None)
        process.join(timeout=2.0)
        if process.is_alive():
            process.kill()
            process.join(timeout=2.0)
        _abandon(requests)

    @property
    def pid(self) -> int | None:
        """The worker process's id while it runs (for IT's process list, and tests)."""
        process = self._process
        return None if process is None else process.pid
