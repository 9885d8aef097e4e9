"""The engine's `Analyser`: one bed's arrhythmia analysis at a station time, reading only the hub.

With an `AnalysisWorker` (the live station) the screening runs in the worker's process, with its own
interpreter lock, so that 64 beds of analysis never stall the display: each call sends the bed's
samples that are new since the last call and returns the previous window's findings once they are
ready (None until then: "no news", which the engine treats as keeping what it knew). Without one
(tests, the ward-day bench) it runs inline on the whole window.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field

from wardwatch.app.alarms.analysis_worker import AnalysisWorker, MissingWindow, WaveChunk, WaveUpdate
from wardwatch.app.alarms.arrhythmia import (
    CHANNEL_NAMES,
    MAX_LAG_S,
    SettingsFor,
    analyse_window,
    channels_off,
    gather_signals,
)
from wardwatch.app.alarms.findings import Finding
from wardwatch.app.alarms.settings import AlarmSettings
from wardwatch.app.codes import MdcCode
from wardwatch.app.hub import BedStreams, StreamHub
from wardwatch.app.ring import SampleRing

# A worker that has not answered in this long is treated as failed (the engine then says that the
# analysis is off for the bed, rather than silently having none).
WORKER_TIMEOUT_S = 10.0


@dataclass(slots=True)
class _Sent:
    """How far each of a bed's channels has been sent to the worker (the ring, since a source that is
    replaced brings new rings, and the ring's cursor), for which generation of the bed's streams."""

    generation: int
    cursors: dict[MdcCode, tuple[SampleRing, int]] = field(default_factory=dict)


class BedAnalyser:
    def __init__(
        self, hub: StreamHub, settings_for: SettingsFor, worker: AnalysisWorker | None = None
    ) -> None:
        self._hub = hub
        self._settings_for = settings_for
        self._worker = worker
        self._pending: dict[str, tuple[Future[list[Finding]], float]] = {}
        self._sent: dict[str, _Sent] = {}

    def __call__(self, bed: str, now: float) -> list[Finding] | None:
        ready: list[Finding] | None = None
        pending = self._pending.pop(bed, None)
        if pending is not None:
            future, since = pending
            if not future.done():
                if now - since > WORKER_TIMEOUT_S:
                    self._sent.pop(bed, None)
                    raise TimeoutError(
                        f"arrhythmia analysis of {bed} gave no answer in {WORKER_TIMEOUT_S:.0f} s"
                    )
                self._pending[bed] = pending
                return None
            try:
                ready = future.result()  # a worker error surfaces here, as the engine expects
            except MissingWindow:
                ready = None  # a restarted worker: send the whole window now
                self._sent.pop(bed, None)
            except Exception:
                self._sent.pop(bed, None)
                raise
        streams = self._hub.streams(bed)
        if streams is None or not streams.waves:
            return []
        if streams.last_data is None or now - streams.last_data > MAX_LAG_S:
            return []  # a silent device is a technical alarm; its last seconds are not "now"
        settings = self._settings_for(bed)
        if self._worker is None:
            signals = gather_signals(streams, settings.arrhythmia_window_s)
            return analyse_window(signals, settings.arrhythmia_priority) if signals else []
        self._pending[bed] = (self._worker.submit(self._update(bed, streams, settings)), now)
        return ready

    def _update(self, bed: str, streams: BedStreams, settings: AlarmSettings) -> WaveUpdate:
        """The bed's samples the worker has not had yet (a channel's whole window the first time)."""
        window_s = settings.arrhythmia_window_s
        sent = self._sent.get(bed)
        reset = sent is None or sent.generation != streams.generation
        if sent is None or reset:
            sent = self._sent[bed] = _Sent(streams.generation)
        chunks: dict[str, WaveChunk] = {}
        for code, channel in list(streams.waves.items()):
            name = CHANNEL_NAMES.get(code)
            if name is None:
                continue
            ring = channel.ring
            previous = sent.cursors.get(code)
            whole = int(window_s * channel.rate) + 8
            if previous is None or previous[0] is not ring:
                chunk, replace = ring.latest(whole), True
            else:
                chunk = ring.read_since(previous[1], max_samples=whole)
                replace = chunk.lost > 0  # the ring lapped what was sent: start the window again
            sent.cursors[code] = (ring, chunk.cursor)
            if replace or len(chunk.values):
                chunks[name] = WaveChunk(chunk.times, chunk.values, replace)
        return WaveUpdate(
            bed,
            window_s,
            settings.arrhythmia_priority,
            chunks,
            channels_off(list(streams.conditions)),
            reset,
        )
