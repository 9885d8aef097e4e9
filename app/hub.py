"""StreamHub: the in-memory meeting point of sources (writers) and the display, alarms and storage (readers).

Per bed and channel a `SampleRing` (waveforms, or the numeric history), the latest observation per code,
the active technical conditions and the source status. Each channel has a single writer (the source
feeding that bed); readers copy out and never block it. Consumers that must not miss anything
(alarm engine, storage) subscribe and receive every observation and technical event through a queue.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import (
    DeviceStatus,
    Observation,
    TechnicalEvent,
    TechnicalKind,
    WaveformBlock,
)
from wardwatch.app.ring import SampleRing

log = logging.getLogger(__name__)

# Longest window anyone reads: the arrhythmia analysis (32 s, resources/alarm_defaults.toml) plus
# margin; the longest one drawn (bed view: 10 s at 25 mm/s on a 4K screen) is shorter.
WAVE_SECONDS = 36.0
# Numeric history kept in memory: an hour at 1 Hz, plus margin (the record keeps the rest).
NUMERIC_CAPACITY = 4096

HubMessage = Observation | TechnicalEvent


@dataclass(slots=True)
class WaveChannel:
    code: MdcCode
    rate: float
    unit: str
    label: str
    ring: SampleRing
    # How much signal one block of this device carries (slowly forgetting maximum), so that a
    # display can play the wave out that far behind and sweep smoothly between bursts.
    block_span_s: float = 0.0


@dataclass(slots=True)
class ActiveCondition:
    kind: TechnicalKind
    since: float
    detail: str
    code: MdcCode | None


@dataclass(slots=True)
class BedStreams:
    bed: str
    waves: dict[MdcCode, WaveChannel] = field(default_factory=dict)
    numerics: dict[MdcCode, Observation] = field(default_factory=dict)
    numeric_history: dict[MdcCode, SampleRing] = field(default_factory=dict)
    conditions: dict[TechnicalKind, ActiveCondition] = field(default_factory=dict)
    status: DeviceStatus | None = None
    last_data: float | None = None  # station time of the newest sample or observation
    generation: int = 0  # bumped when the bed's streams are cleared (source reassigned)


@dataclass(slots=True)
class HubCounters:
    blocks: int = 0
    samples: int = 0
    observations: int = 0
    events: int = 0
    rejected: int = 0


class StreamHub:
    def __init__(self) -> None:
        self._beds: dict[str, BedStreams] = {}
        self._create_lock = threading.Lock()
        self._subscribers: list[queue.SimpleQueue[HubMessage]] = []
        self.counters = HubCounters()

    # ---- set-up -------------------------------------------------------------------------------
    def add_bed(self, bed: str) -> BedStreams:
        with self._create_lock:
            streams = self._beds.get(bed)
            if streams is None:
                streams = BedStreams(bed)
                self._beds = {**self._beds, bed: streams}  # copy-on-write: readers iterate safely
            return streams

    def clear_bed(self, bed: str) -> None:
        """Forget a bed's data (its source was replaced); readers notice by `generation`."""
        with self._create_lock:
            old = self._beds.get(bed)
            fresh = BedStreams(bed, generation=(old.generation + 1) if old else 0)
            self._beds = {**self._beds, bed: fresh}

    def subscribe(self) -> queue.SimpleQueue[HubMessage]:
        """A queue that receives every observation and technical event from now on."""
        q: queue.SimpleQueue[HubMessage] = queue.SimpleQueue()
        with self._create_lock:
            self._subscribers = [*self._subscribers, q]
        return q

    def unsubscribe(self, q: queue.SimpleQueue[HubMessage]) -> None:
        with self._create_lock:
            self._subscribers = [s for s in self._subscribers if s is not q]

    # ---- writers (source threads) ---------------------------------------------------------------
    def _bed(self, bed: str) -> BedStreams:
        streams = self._beds.get(bed)
        return streams if streams is not None else self.add_bed(bed)

    def push_block(self, block: WaveformBlock) -> None:
        if block.rate <= 0 or len(block.samples) == 0:
            self.counters.rejected += 1
            return
        streams = self._bed(block.bed)
        channel = streams.waves.get(block.code)
        if channel is None or channel.rate != block.rate:
            capacity = max(64, int(block.rate * WAVE_SECONDS))
            channel = WaveChannel(block.code, block.rate, block.unit, block.label, SampleRing(capacity))
            with self._create_lock:
                streams.waves = {**streams.waves, block.code: channel}
        channel.ring.write_block(block.samples, block.t0, block.rate)
        channel.block_span_s = max(len(block.samples) / block.rate, channel.block_span_s * 0.995)
        streams.last_data = block.t_end
        self.counters.blocks += 1
        self.counters.samples += len(block.samples)

    def push_observation(self, obs: Observation, *, from_monitor: bool = True) -> None:
        """`from_monitor` False: a further device at the bed (a glucose sensor reporting once a minute)
        whose values must not count as the bed's monitor being alive to the supervisor."""
        streams = self._bed(obs.bed)
        history = streams.numeric_history.get(obs.code)
        if history is None:
            history = SampleRing(NUMERIC_CAPACITY)
            with self._create_lock:
                streams.numeric_history = {**streams.numeric_history, obs.code: history}
        history.write((obs.value,), (obs.time,))
        streams.numerics[obs.code] = obs
        if from_monitor:
            streams.last_data = max(streams.last_data or obs.time, obs.time)
        self.counters.observations += 1
        self._publish(obs)

    def push_event(self, event: TechnicalEvent) -> None:
        streams = self._bed(event.bed)
        if event.active:
            streams.conditions[event.kind] = ActiveCondition(event.kind, event.time, event.detail, event.code)
        else:
            streams.conditions.pop(event.kind, None)
        self.counters.events += 1
        self._publish(event)

    def set_status(self, bed: str, status: DeviceStatus) -> None:
        self._bed(bed).status = status

    def _publish(self, message: HubMessage) -> None:
        for q in self._subscribers:
            q.put(message)

    # ---- readers (GUI timer, alarm engine, storage, supervisor) --------------------------------
    def beds(self) -> Iterable[str]:
        return list(self._beds)

    def streams(self, bed: str) -> BedStreams | None:
        return self._beds.get(bed)

    def latest(self, bed: str, code: MdcCode) -> Observation | None:
        streams = self._beds.get(bed)
        return None if streams is None else streams.numerics.get(code)

    def conditions(self, bed: str) -> list[ActiveCondition]:
        streams = self._beds.get(bed)
        return [] if streams is None else list(streams.conditions.values())
