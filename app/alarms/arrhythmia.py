"""Live arrhythmia analysis of one bed: the last seconds of every wave from the hub, screened for
arrhythmias and each candidate checked against all the other signals before it may sound.

This runs the very same `detect_arrhythmias` and `verify_alarm` as `wardwatch eval alarms`, on the
bed's waves resampled onto one 250 Hz grid that ends at the newest sample every channel has.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool as BrokenExecutor
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
from wardwatch.app.alarms.findings import ARRHYTHMIA_PREFIX, Finding
from wardwatch.app.alarms.model import Category, Priority
from wardwatch.app.alarms.settings import AlarmSettings
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import TechnicalKind
from wardwatch.app.hub import BedStreams, StreamHub
from wardwatch.app.verify.alarm_types import ArrhythmiaType

ANALYSIS_FS = 250.0
# A channel whose newest sample is this much older than the freshest channel's is left out rather
# than holding the whole analysis back.
MAX_LAG_S = 2.0

# Channel names as the PhysioNet records (and the verification) know them.
CHANNEL_NAMES: Mapping[MdcCode, str] = MappingProxyType(
    {
        MdcCode.ECG_ELEC_POTL_II: "II",
        MdcCode.ECG_ELEC_POTL_I: "I",
        MdcCode.ECG_ELEC_POTL_III: "III",
        MdcCode.ECG_ELEC_POTL_AVR: "aVR",
        MdcCode.ECG_ELEC_POTL_AVL: "aVL",
        MdcCode.ECG_ELEC_POTL_AVF: "aVF",
        MdcCode.ECG_ELEC_POTL_V5: "V",
        MdcCode.ECG_ELEC_POTL: "MCL",
        MdcCode.PULS_OXIM_PLETH: "PLETH",
        MdcCode.PRESS_BLD_ART_ABP: "ABP",
        MdcCode.RESP: "RESP",
    }
)
_ECG_NAMES = frozenset({"II", "I", "III", "aVR", "aVL", "aVF", "V", "MCL"})

MESSAGES: Mapping[ArrhythmiaType, str] = MappingProxyType(
    {
        ArrhythmiaType.ASYSTOLE: "Asystole",
        ArrhythmiaType.BRADYCARDIA: "Extreme brady",
        ArrhythmiaType.TACHYCARDIA: "Extreme tachy",
        ArrhythmiaType.VENTRICULAR_TACHYCARDIA: "V-tach",
        ArrhythmiaType.VENTRICULAR_FLUTTER_FIB: "V-fib/flutter",
    }
)


def gather_signals(
    streams: BedStreams, window_s: float, fs: float = ANALYSIS_FS
) -> dict[str, npt.NDArray[np.float64]]:
    """The bed's waves over the last `window_s` on one grid of rate `fs` (NaN where a channel had no
    sample). Channels a technical condition says are off (leads off, sensor off) are left out: a
    flat line from a loose electrode must not be read as asystole."""
    kinds = set(streams.conditions)
    newest: dict[str, float] = {}
    raw: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = {}
    for code, channel in list(streams.waves.items()):
        name = CHANNEL_NAMES.get(code)
        if name is None:
            continue
        if name in _ECG_NAMES and TechnicalKind.LEAD_OFF in kinds:
            continue
        if name == "PLETH" and TechnicalKind.SENSOR_OFF in kinds:
            continue
        chunk = channel.ring.latest(int(window_s * channel.rate) + 8)
        if len(chunk.times) < 2:
            continue
        raw[name] = (chunk.times, chunk.values.astype(np.float64))
        newest[name] = float(chunk.times[-1])
    if not raw:
        return {}
    freshest = max(newest.values())
    keep = {n: v for n, v in raw.items() if freshest - newest[n] <= MAX_LAG_S}
    end = min(newest[n] for n in keep)
    n = round(window_s * fs)
    grid = end - (n - 1) / fs + np.arange(n) / fs
    out: dict[str, npt.NDArray[np.float64]] = {}
    for name, (times, values) in keep.items():
        y = np.interp(grid, times, values, left=np.nan, right=np.nan)
        # a gap in the data (dropout) stays a gap, not a straight line across it
        step = np.diff(times)
        if len(step) and np.any(step > 3.0 * np.median(step)):
            idx = np.searchsorted(times, grid, side="right")
            idx = np.clip(idx, 1, len(times) - 1)
            gap = (times[idx] - times[idx - 1]) > 3.0 * np.median(step)
            y[gap] = np.nan
        out[name] = y
    return out


def analyse_signals(
    signals: Mapping[str, npt.NDArray[np.float64]], settings: AlarmSettings, fs: float = ANALYSIS_FS
) -> list[Finding]:
    """Screen the signals, verify each candidate, and say so in findings (held back or not)."""
    return analyse_window(signals, settings.arrhythmia_priority, fs)


def analyse_window(
    signals: Mapping[str, npt.NDArray[np.float64]], priority: Priority, fs: float = ANALYSIS_FS
) -> list[Finding]:
    """`analyse_signals` with plain arguments, so it can run in a worker process."""
    from wardwatch.app.verify.decide import detect_arrhythmias, verify_alarm  # scipy: worker side only

    if not any(name in _ECG_NAMES for name in signals):
        return []
    findings: list[Finding] = []
    for kind in detect_arrhythmias(signals, fs):
        verdict = verify_alarm(kind, signals, fs)
        findings.append(
            Finding(
                key=ARRHYTHMIA_PREFIX + kind.value,
                category=Category.ARRHYTHMIA,
                priority=priority,
                message=MESSAGES.get(kind, kind.value),
                latching=True,
                held_back=not verdict.sound,
                reason=verdict.reason,
                evidence=dict(verdict.evidence),
            )
        )
    return findings


SettingsFor = Callable[[str], AlarmSettings]


def _exit_with_parent(parent: int) -> None:
    """Worker start-up: end this process when the station's is gone (killed, crashed), instead of
    lingering as an orphan that holds memory until the PC restarts."""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class AnalysisPool:
    """One worker process for the arrhythmia analysis, made again if it dies (its death is reported
    once through the failed futures, as a technical alarm on the beds it was analysing)."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, fn: Callable[..., list[Finding]], *args: object) -> Future[list[Finding]]:
        if self._pool is None:
            # spawn, not fork: forking a process that runs Qt and several threads is not safe
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )
        try:
            return self._pool.submit(fn, *args)
        except BrokenExecutor:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            raise

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


# A worker that has not answered in this long is treated as failed (the engine then says that the
# analysis is off for the bed, rather than silently having none).
WORKER_TIMEOUT_S = 10.0


class BedAnalyser:
    """The engine's `Analyser`: one bed's analysis at a station time, reading only the hub.

    With an `executor` (a process pool in the live station) the screening runs in another process,
    with its own interpreter lock, so that 64 beds of analysis never stall the display: each call
    hands in the newest window and returns the previous window's findings once they are ready (None
    until then: "no news", which the engine treats as keeping what it knew). Without one (tests, the
    ward-day bench) it runs inline."""

    def __init__(
        self, hub: StreamHub, settings_for: SettingsFor, executor: AnalysisPool | None = None
    ) -> None:
        self._hub = hub
        self._settings_for = settings_for
        self._executor = executor
        self._pending: dict[str, tuple[Future[list[Finding]], float]] = {}

    def __call__(self, bed: str, now: float) -> list[Finding] | None:
        ready: list[Finding] | None = None
        pending = self._pending.pop(bed, None)
        if pending is not None:
            future, since = pending
            if not future.done():
                if now - since > WORKER_TIMEOUT_S:
                    raise TimeoutError(
                        f"arrhythmia analysis of {bed} gave no answer in {WORKER_TIMEOUT_S:.0f} s"
                    )
                self._pending[bed] = pending
                return None
            ready = future.result()  # a worker error surfaces here, as the engine expects
        streams = self._hub.streams(bed)
        if streams is None or not streams.waves:
            return []
        if streams.last_data is None or now - streams.last_data > MAX_LAG_S:
            return []  # a silent device is a technical alarm; its last seconds are not "now"
        settings = self._settings_for(bed)
        signals = gather_signals(streams, settings.arrhythmia_window_s)
        if not signals:
            return []
        if self._executor is None:
            return analyse_window(signals, settings.arrhythmia_priority)
        self._pending[bed] = (
            self._executor.submit(analyse_window, signals, settings.arrhythmia_priority),
            now,
        )
        return ready
