"""`wardwatch bench mqtt`: what hospital-wide sharing costs, against a Mosquitto started on loopback.

Three figures (issue 13):
- publishing cost: the CPU of the station's publishing threads (the publisher and paho's network loop,
  read per thread from /proc) at 1 Hz numerics for 8, 16, 32, … beds (monitors sending numerics only),
  and the largest station that stays under 10 % of one core;
- alarm latency: from the moment the station's alarm engine raised or ended an alarm to the moment a
  viewer's model (HospitalHouse) applied it, p50/p99 over many events;
- waveform bandwidth: bytes per second on one bed's `waves` topic while a viewer holds its lease.

Stations here are real (simulated patients, alarm engine, hub); only the broker is private to the bench.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from wardwatch.app.clock import ScaledClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import DeviceStatus, LinkState, Observation, TechnicalEvent, TechnicalKind
from wardwatch.app.hospital.publisher import HospitalPublisher
from wardwatch.app.hospital.settings import MqttSettings, ViewTarget, parse_url
from wardwatch.app.hospital.topics import Kind, bed_topic
from wardwatch.app.sources import SourceContext
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.devices.base import Sink, Source

MOSQUITTO = "/usr/sbin/mosquitto"
SITE = "bench"
CPU_LIMIT_PERCENT = 10.0
PUBLISHING_THREADS = ("mqtt-publisher", "paho-mqtt-client-")
WARMUP_S = 3.0
# bytes MQTT adds to each PUBLISH besides topic and payload (fixed header, topic length, properties)
PUBLISH_OVERHEAD = 5


class BenchError(RuntimeError):
    """The bench cannot run here (no mosquitto, the broker would not start)."""


# -- a private broker --------------------------------------------------------------------------------------
def free_port() -> int:
    """A loopback port nobody listens on now (for a private broker; the tests' brokers use it too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def accepts_connections(port: int) -> bool:
    """Whether something listens on this loopback port yet (a broker started has bound it)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def loopback_broker(timeout: float = 15.0) -> Iterator[str]:
    """A throw-away anonymous Mosquitto on 127.0.0.1; yields its URL, stops it at the end."""
    if not Path(MOSQUITTO).exists():
        raise BenchError(f"{MOSQUITTO} not found: install Debian's mosquitto (apt-get install mosquitto)")
    folder = Path(tempfile.mkdtemp(prefix="wardwatch-bench-mqtt-"))
    port = free_port()
    config = folder / "mosquitto.conf"
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous true", "max_queued_messages 100000"]
    if os.getuid() == 0:  # as root mosquitto would switch to its own user
        lines.insert(0, "user root")
    config.write_text("\n".join(lines) + "\n")
    with (folder / "stderr").open("wb") as err:
        process = subprocess.Popen(
            [MOSQUITTO, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=err, cwd=folder
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if accepts_connections(port):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(
                    f"mosquitto did not start: {(folder / 'stderr').read_text(errors='replace')}"
                )
            time.sleep(0.05)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


# -- CPU of named threads ----------------------------------------------------------------------------------
def thread_cpu_seconds(prefixes: tuple[str, ...]) -> float:
    """User + system CPU seconds so far of this process's threads whose names start with a prefix
    (Linux: /proc/self/task/<tid>/stat); process_time would also count the simulated patients."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for thread in threading.enumerate():
        tid = thread.native_id
        if tid is None or not thread.name.startswith(prefixes):
            continue
        try:
            stat = Path(f"/proc/self/task/{tid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / tick


# -- stations ----------------------------------------------------------------------------------------------
@dataclass
class BenchStation:
    station: Station
    publisher: HospitalPublisher

    def close(self) -> None:
        self.publisher.close()
        self.station.stop()


class NumericsFeeder:
    """One thread giving every bed of a station 1 Hz numerics (HR, SpO₂, pulse, respiration, blood
    pressure, temperature), as a monitor sends them. The publishing step uses it instead of simulated
    patients: their waveforms cost far more CPU than publishing does, so a station of simulated patients
    big enough to bring the publisher to 10 % of a core would not fit on a 2-core machine."""

    VALUES: tuple[tuple[MdcCode, float, str], ...] = (
        (MdcCode.ECG_HEART_RATE, 72.0, "/min"),
        (MdcCode.PULS_OXIM_SAT_O2, 97.0, "%"),
        (MdcCode.PULS_OXIM_PULS_RATE, 72.0, "/min"),
        (MdcCode.RESP_RATE, 16.0, "/min"),
        (MdcCode.PRESS_BLD_NONINV_SYS, 122.0, "mm[Hg]"),
        (MdcCode.PRESS_BLD_NONINV_DIA, 78.0, "mm[Hg]"),
        (MdcCode.PRESS_BLD_NONINV_MEAN, 93.0, "mm[Hg]"),
        (MdcCode.TEMP_BODY, 36.9, "Cel"),
    )

    def __init__(self) -> None:
        self._beds: dict[str, Sink] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-numerics", daemon=True)
        self._thread.start()

    def source(self, spec: str, bed: str, ctx: SourceContext) -> Source:
        return _FedBed(spec, bed, self)

    def attach(self, bed: str, sink: Sink | None) -> None:
        with self._lock:
            if sink is None:
                self._beds.pop(bed, None)
            else:
                self._beds[bed] = sink

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def _run(self) -> None:
        tick = 0
        while not self._stop.wait(1.0):
            tick += 1
            now = time.time()
            with self._lock:
                beds = list(self._beds.items())
            for bed, sink in beds:
                for code, value, unit in self.VALUES:
                    # a little movement, so every second's numerics differ as a patient's do
                    sink.push_observation(Observation(bed, code, value + (tick % 3), unit, now))


@dataclass
class _FedBed:
    source_id: str
    bed: str
    feeder: NumericsFeeder

    def start(self, sink: Sink) -> None:
        sink.set_status(self.bed, self.status)
        self.feeder.attach(self.bed, sink)

    def stop(self) -> None:
        self.feeder.attach(self.bed, None)

    @property
    def status(self) -> DeviceStatus:
        return DeviceStatus(self.source_id, "bench", LinkState.CONNECTED)


def start_station(
    url: str, ward: str, beds: int, seed: int = 1, feeder: NumericsFeeder | None = None
) -> BenchStation:
    """A real station of `beds` beds sharing through a publisher: simulated patients, or, with a
    `feeder`, monitors sending numerics only."""
    spec = "bench:numerics" if feeder is not None else "sim:stable"
    setup = StationSetup(ward, [BedSetup(f"Bed {i + 1}", spec) for i in range(beds)], seed=seed)
    station = (
        Station(setup, ScaledClock(1.0), source_maker=feeder.source)
        if feeder is not None
        else Station(setup, ScaledClock(1.0))
    )
    station.start()
    publisher = HospitalPublisher(station, MqttSettings(url=parse_url(url), site=SITE, ward=ward))
    station.services["hospital"] = publisher
    publisher.start()
    return BenchStation(station, publisher)


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out waiting for {what}")
        time.sleep(0.05)


# -- (a) publishing cost -----------------------------------------------------------------------------------
def measure_publishing(url: str, beds: int, seconds: float) -> dict[str, float]:
    """CPU of the publishing threads (and of the whole process, for scale) for one station of `beds`
    whose monitors send 1 Hz numerics."""
    feeder = NumericsFeeder()
    bench = start_station(url, f"cpu{beds}", beds, feeder=feeder)
    try:
        _wait(lambda: bench.publisher.connection.connected, 15, "the station to connect")
        time.sleep(WARMUP_S)
        published0 = bench.publisher.counters.published
        cpu0, proc0, wall0 = thread_cpu_seconds(PUBLISHING_THREADS), time.process_time(), time.monotonic()
        time.sleep(seconds)
        wall = time.monotonic() - wall0
        cpu = thread_cpu_seconds(PUBLISHING_THREADS) - cpu0
        proc = time.process_time() - proc0
        published = bench.publisher.counters.published - published0
    finally:
        bench.close()
        feeder.close()
    return {
        "beds": beds,
        "publisher_cpu_percent": round(100 * cpu / wall, 2),
        "process_cpu_percent": round(100 * proc / wall, 1),
        "messages_per_s": round(published / wall, 1),
    }


def beds_under_limit(steps: list[dict[str, float]], limit: float = CPU_LIMIT_PERCENT) -> dict[str, Any]:
    """The largest measured station under `limit`, and where the limit is crossed: interpolated between
    the two steps around it, or, when every step stayed under it, extrapolated along a straight line
    fitted to all steps (a fixed part, the heartbeat and the loop, plus a part per bed)."""
    under = [s for s in steps if s["publisher_cpu_percent"] < limit]
    over = [s for s in steps if s["publisher_cpu_percent"] >= limit]
    largest = max((int(s["beds"]) for s in under), default=0)
    estimate: int | None = None
    if over and under:
        a = max(under, key=lambda s: s["beds"])
        b = min(over, key=lambda s: s["beds"])
        rise = b["publisher_cpu_percent"] - a["publisher_cpu_percent"]
        if rise > 0:
            estimate = int(a["beds"] + (limit - a["publisher_cpu_percent"]) * (b["beds"] - a["beds"]) / rise)
    elif not over and len({s["beds"] for s in steps}) >= 2:
        fit = statistics.linear_regression(
            [float(s["beds"]) for s in steps], [s["publisher_cpu_percent"] for s in steps]
        )
        if fit.slope > 0:
            estimate = int((limit - fit.intercept) / fit.slope)
    return {
        "largest_measured_under_limit": largest,
        "estimated_beds_at_limit": estimate,
        "estimate_extrapolated": not over,
    }


# -- (c) waveform bandwidth --------------------------------------------------------------------------------
class _Client:
    """A bare paho client for the bench's viewer side of the wire (subscribe, count, publish)."""

    def __init__(self, url: str, name: str) -> None:
        parsed = parse_url(url)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5)
        self.messages: queue.SimpleQueue[tuple[float, str, bytes]] = queue.SimpleQueue()
        self.client.on_message = lambda _c, _u, m: self.messages.put((time.time(), m.topic, m.payload))
        self.client.connect(parsed.host, parsed.port, keepalive=5)
        self.client.loop_start()
        _wait(self.client.is_connected, 15, "the bench client to connect")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def measure_waves(url: str, seconds: float) -> dict[str, float]:
    """Bytes per second of one bed's `waves` topic (ECG 250 Hz, pleth 125 Hz, resp 62.5 Hz) while a real
    viewer has the bed open (it renews the lease); a bare client counts what crosses the broker."""
    from wardwatch.app.hospital.house import bed_key
    from wardwatch.app.hospital.viewer import HospitalViewer

    bench = start_station(url, "waves", 1)
    viewer = HospitalViewer(_viewer_settings(url), "bench viewer", [ViewTarget(SITE, "waves")])
    counter = _Client(url, f"wardwatch-bench-counter-{uuid.uuid4().hex[:6]}")
    try:
        _wait(lambda: bench.publisher.connection.connected, 15, "the station to connect")
        counter.client.subscribe(bed_topic(SITE, "waves", "bed01", Kind.WAVES), qos=0)
        viewer.start()
        _wait(lambda: viewer.connected, 15, "the viewer to connect")
        viewer.open_bed(bed_key(SITE, "waves", "bed01"))
        time.sleep(WARMUP_S)
        while not counter.messages.empty():
            counter.messages.get_nowait()
        start = time.monotonic()
        payload = wire = count = 0
        while time.monotonic() - start < seconds:
            try:
                _t, topic, data = counter.messages.get(timeout=0.1)
            except queue.Empty:
                continue
            count += 1
            payload += len(data)
            wire += len(data) + len(topic) + PUBLISH_OVERHEAD
        wall = time.monotonic() - start
    finally:
        counter.close()
        viewer.close()
        bench.close()
    return {
        "messages_per_s": round(count / wall, 2),
        "payload_bytes_per_s": round(payload / wall),
        "wire_bytes_per_s": round(wire / wall),
        "bytes_per_message": round(payload / count) if count else 0,
    }


def _viewer_settings(url: str) -> MqttSettings:
    return MqttSettings(url=parse_url(url), site=SITE, ward="bench-viewer")


# -- (b) alarm latency -------------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def measure_latency(url: str, events: int, beds: int = 4) -> dict[str, Any]:
    """Raise and end a 'low battery' technical alarm on each bed in turn (no condition delay, so the
    engine reports it at its next tick), and time each alarm event from the station's engine to the
    viewer's model."""
    from wardwatch.app.hospital.viewer import HospitalViewer

    bench = start_station(url, "latency", beds)
    engine_events = bench.station.alarms.subscribe()
    applied: queue.SimpleQueue[tuple[str, str | None, float]] = queue.SimpleQueue()
    viewer = HospitalViewer(_viewer_settings(url), "bench viewer", [ViewTarget(SITE, "latency")])
    viewer.house.add_listener(lambda a: applied.put((a.bed.rsplit("/", 1)[-1], a.action, a.received)))
    latencies: list[float] = []  # from the engine's event to the viewer's model
    with_tick: list[float] = []  # from the condition reaching the station's hub (adds the engine's tick)
    try:
        viewer.start()
        _wait(lambda: bench.publisher.connection.connected, 15, "the station to connect")
        time.sleep(WARMUP_S)
        while not applied.empty():
            applied.get_nowait()
        while not engine_events.empty():
            engine_events.get_nowait()
        hub, clock = bench.station.hub, bench.station.clock
        for i in range(events):
            bed = f"bed{i % beds + 1:02d}"
            active = (i // beds) % 2 == 0
            pushed = time.time()
            hub.push_event(TechnicalEvent(bed, TechnicalKind.LOW_BATTERY, active, clock.now(), "bench"))
            action, raised_at = _next_engine_event(engine_events, bed, 10.0)
            seen = _next_applied(applied, bed, action, 10.0)
            latencies.append(seen - raised_at)
            with_tick.append(seen - pushed)
    finally:
        viewer.close()
        bench.close()
    ms = [1000 * x for x in latencies]
    tick_ms = [1000 * x for x in with_tick]
    return {
        "events": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1) if ms else None,
        "mean_ms": round(statistics.fmean(ms), 1) if ms else None,
        "from_condition_p50_ms": round(percentile(tick_ms, 50), 1),
        "from_condition_p99_ms": round(percentile(tick_ms, 99), 1),
    }


def _next_engine_event(events: queue.SimpleQueue[Any], bed: str, timeout: float) -> tuple[str, float]:
    deadline = time.monotonic() + timeout
    while True:
        event = events.get(timeout=max(0.01, deadline - time.monotonic()))
        if event.bed == bed and event.key == f"technical:{TechnicalKind.LOW_BATTERY.value}":
            return event.action.value, event.time


def _next_applied(
    applied: queue.SimpleQueue[tuple[str, str | None, float]], bed: str, action: str, timeout: float
) -> float:
    deadline = time.monotonic() + timeout
    while True:
        got_bed, got_action, received = applied.get(timeout=max(0.01, deadline - time.monotonic()))
        if got_bed == bed and got_action == action:
            return received


# -- the command -------------------------------------------------------------------------------------------
def bed_steps(largest: int) -> list[int]:
    steps, n = [], 8
    while n < largest:
        steps.append(n)
        n *= 2
    return [*steps, largest]


def run_bench(beds: int, seconds: float, events: int) -> dict[str, Any]:
    with loopback_broker() as url:
        steps = []
        for n in bed_steps(beds):
            steps.append(measure_publishing(url, n, seconds))
            if steps[-1]["publisher_cpu_percent"] >= CPU_LIMIT_PERCENT:
                break
        return {
            "broker": "mosquitto on loopback",
            "publishing": steps,
            "publishing_limit": beds_under_limit(steps),
            "alarm_latency": measure_latency(url, events),
            "waves_one_bed": measure_waves(url, seconds),
        }


def cmd_bench(args: argparse.Namespace) -> int:
    beds = int(getattr(args, "beds", None) or 2048)
    seconds = float(getattr(args, "seconds", None) or 10.0)
    events = int(getattr(args, "events", None) or 200)
    try:
        result = run_bench(beds, seconds, events)
    except BenchError as exc:
        print(f"wardwatch bench mqtt: {exc}", file=sys.stderr)
        return 1
    if getattr(args, "json", False):
        print(json.dumps(result))
        return 0
    for step in result["publishing"]:
        print(
            f"{step['beds']:>4} beds: publisher {step['publisher_cpu_percent']:5.2f} % of a core "
            f"(process {step['process_cpu_percent']:5.1f} %), {step['messages_per_s']:7.1f} messages/s"
        )
    limit = result["publishing_limit"]
    approx = " (extrapolated)" if limit["estimate_extrapolated"] else ""
    estimate = limit["estimated_beds_at_limit"]
    at_limit = f"about {estimate} at the limit{approx}" if estimate is not None else "the limit not estimated"
    print(
        f"beds under {CPU_LIMIT_PERCENT:.0f} % of a core: {limit['largest_measured_under_limit']} measured, "
        + at_limit
    )
    lat = result["alarm_latency"]
    print(
        f"alarm latency station → viewer over {lat['events']} events: p50 {lat['p50_ms']} ms, "
        f"p99 {lat['p99_ms']} ms, max {lat['max_ms']} ms (from the condition, with the engine's tick: "
        f"p50 {lat['from_condition_p50_ms']} ms, p99 {lat['from_condition_p99_ms']} ms)"
    )
    waves = result["waves_one_bed"]
    print(
        f"waves of one open bed: {waves['payload_bytes_per_s']} B/s payload, "
        f"{waves['wire_bytes_per_s']} B/s on the wire, {waves['messages_per_s']} messages/s"
    )
    return 0
