"""What the station sees, turned into rows for the writer: full disclosure, trends and events.

The recorder runs on its own thread and only reads: waveforms are copied out of the hub's rings about
once a second (the rings hold far more than that, so nothing is missed and the sources' hot path is
untouched), numerics and technical events arrive through the hub's subscription queue, and alarm
journal events through the alarm engine's. Waveforms are cut into blocks of BLOCK_S seconds per
channel; numerics into per-minute rows with one value per second (the last value of each second).
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from wardwatch.app.alarms.model import AlarmEvent
from wardwatch.app.domain import Observation, Patient, TechnicalEvent
from wardwatch.app.hub import StreamHub
from wardwatch.storage import schema
from wardwatch.storage.codec import SECONDS_PER_MINUTE, empty_minute, encode_minute, encode_wave
from wardwatch.storage.writer import RecordWriter, Row

log = logging.getLogger(__name__)

BLOCK_S = 4.0
POLL_S = 1.0


@dataclass
class _WaveTap:
    generation: int
    cursor: int = 0
    times: list[npt.NDArray[np.float64]] = field(default_factory=list)
    values: list[npt.NDArray[np.float32]] = field(default_factory=list)
    rate: float = 0.0
    unit: str = ""

    def span(self) -> float:
        if not self.times:
            return 0.0
        return float(self.times[-1][-1] - self.times[0][0]) + 1.0 / max(self.rate, 1e-9)


def wave_row(bed: str, code: int, rate: float, unit: str, t0: float, values: npt.ArrayLike) -> Row:
    """One full-disclosure block of evenly spaced samples from time `t0`: the hub's rings hold blocks
    laid out that way (a device's own gaps become NaN at the source)."""
    samples = np.asarray(values, np.float32)
    gain, offset, data = encode_wave(samples)
    t0 = float(t0)
    return Row(
        schema.waveforms,
        {
            "bed_id": bed,
            "code": int(code),
            "t0": t0,
            "t_end": t0 + len(samples) / rate,
            "rate": float(rate),
            "unit": unit,
            "count": len(samples),
            "gain": gain,
            "offset": offset,
            "data": data,
        },
    )


def trend_row(bed: str, code: int, minute: int, samples: npt.NDArray[np.float32]) -> Row:
    return Row(
        schema.trends, {"bed_id": bed, "code": int(code), "minute": minute, "samples": encode_minute(samples)}
    )


def alarm_event_row(event: AlarmEvent) -> Row:
    return Row(
        schema.alarm_events,
        {
            "time": event.time,
            "bed_id": event.bed,
            "alarm_id": event.alarm_id,
            "key": event.key,
            "priority": event.priority.name.lower() if event.priority is not None else None,
            "action": str(event.action.value),
            "user": event.user,
            "detail": event.detail,
        },
    )


def technical_event_row(event: TechnicalEvent) -> Row:
    return Row(
        schema.technical_events,
        {
            "time": event.time,
            "bed_id": event.bed,
            "kind": str(event.kind.value),
            "active": event.active,
            "detail": event.detail,
        },
    )


class TrendBuilder:
    """Per bed and channel, the current minute's 60 one-second values; a full minute leaves as a row."""

    def __init__(self) -> None:
        self._minutes: dict[tuple[str, int], tuple[int, npt.NDArray[np.float32]]] = {}

    def add(self, obs: Observation) -> Row | None:
        if not math.isfinite(obs.value):
            return None
        minute, second = divmod(int(obs.time), SECONDS_PER_MINUTE)
        k = (obs.bed, int(obs.code))
        current = self._minutes.get(k)
        done: Row | None = None
        if current is None or current[0] != minute:
            if current is not None:
                done = trend_row(obs.bed, int(obs.code), current[0], current[1])
            current = (minute, empty_minute())
            self._minutes[k] = current
        current[1][second] = obs.value
        return done

    def drain(self) -> list[Row]:
        rows = [trend_row(bed, code, m, v) for (bed, code), (m, v) in self._minutes.items()]
        self._minutes.clear()
        return rows


class Recorder:
    def __init__(
        self,
        hub: StreamHub,
        writer: RecordWriter,
        alarm_journal: queue.SimpleQueue[AlarmEvent] | None = None,
    ) -> None:
        self._hub = hub
        self._writer = writer
        self._events = hub.subscribe()
        self._alarms = alarm_journal
        self._taps: dict[tuple[str, int], _WaveTap] = {}
        self._trends = TrendBuilder()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10.0)
            self._thread = None
        self._hub.unsubscribe(self._events)

    # -- station actions (any thread) -------------------------------------------------------------
    def admitted(self, bed: str, patient: Patient, when: float) -> Future[None]:
        return self._writer.put_critical(
            Row(
                schema.admissions,
                {
                    "bed_id": bed,
                    "admitted_at": when,
                    "patient": {
                        "mrn": patient.mrn,
                        "family_name": patient.family_name,
                        "given_name": patient.given_name,
                        "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
                    },
                },
            )
        )

    def beds(self, beds: list[tuple[str, str, str | None]], when: float) -> None:
        """The ward's bed positions (id, label, source) as the station starts."""
        for bed_id, label, source in beds:
            self._writer.put(Row(schema.beds, {"bed_id": bed_id, "label": label}))
            self.device(bed_id, source, when)

    def device(self, bed: str, source: str | None, when: float) -> Future[None]:
        return self._writer.put_critical(
            Row(schema.devices, {"bed_id": bed, "source": source, "since": when})
        )

    def discharged(self, bed: str, when: float) -> Future[None]:
        return self._writer.put_critical(Row(schema.admissions, {"bed_id": bed, "discharged_at": when}))

    def audit(self, user: str, action: str, detail: str, when: float, **more: str) -> Future[None]:
        """An audit row (`more`: target, outcome, before, after); the writer chains it (security_audit)."""
        return self._writer.put_critical(
            Row(schema.audit, {"time": when, "user": user, "action": action, "detail": detail, **more})
        )

    # -- the thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            self._pass(final=False)
        self._pass(final=True)

    def _pass(self, final: bool) -> None:
        try:
            self._drain_alarms()
            self._drain_events()
            self._copy_waves(final)
            if final:
                self._writer.put_many(self._trends.drain())
        except Exception:
            log.exception("recorder pass failed; it goes on with the next")

    def _drain_alarms(self) -> None:
        if self._alarms is None:
            return
        while True:
            try:
                event = self._alarms.get_nowait()
            except queue.Empty:
                return
            self._writer.put_critical(alarm_event_row(event))

    def _drain_events(self) -> None:
        while True:
            try:
                message = self._events.get_nowait()
            except queue.Empty:
                return
            if isinstance(message, TechnicalEvent):
                self._writer.put(technical_event_row(message))
            elif (row := self._trends.add(message)) is not None:
                self._writer.put(row)

    def _copy_waves(self, final: bool) -> None:
        for bed in self._hub.beds():
            streams = self._hub.streams(bed)
            if streams is None:
                continue
            for code, channel in list(streams.waves.items()):
                k = (bed, int(code))
                tap = self._taps.get(k)
                if tap is None or tap.generation != streams.generation or tap.rate != channel.rate:
                    if tap is not None:
                        self._emit(bed, int(code), tap)
                    tap = _WaveTap(
                        streams.generation, channel.ring.count, rate=channel.rate, unit=channel.unit
                    )
                    self._taps[k] = tap
                    continue
                chunk = channel.ring.read_since(tap.cursor)
                tap.cursor = chunk.cursor
                if len(chunk.values):
                    tap.times.append(chunk.times.copy())
                    tap.values.append(chunk.values.copy())
                if final or tap.span() >= BLOCK_S:
                    self._emit(bed, int(code), tap)

    def _emit(self, bed: str, code: int, tap: _WaveTap) -> None:
        if not tap.values:
            return
        times = np.concatenate(tap.times)
        values = np.concatenate(tap.values)
        tap.times.clear()
        tap.values.clear()
        # a gap in time (device pause, missed samples) starts a new block, so evenly spaced holds
        step = 1.0 / tap.rate
        breaks = np.flatnonzero(np.abs(np.diff(times) - step) > 0.5 * step) + 1
        for seg_t, seg_v in zip(np.split(times, breaks), np.split(values, breaks), strict=True):
            self._writer.put(wave_row(bed, code, tap.rate, tap.unit, float(seg_t[0]), seg_v))
