"""Hospital scale end to end (issue 13): real headless stations (`wardwatch run --headless --mqtt …`
subprocesses) and a real viewer (HospitalViewer and its house model) through a real Mosquitto with TLS,
passwords and the recommended ACLs (tests/mqtt_broker.py)."""

from __future__ import annotations

import json
import os
import queue
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import paho.mqtt.client as mqtt
import pytest
from mqtt_broker import SECURE_SITE, SECURE_STATIONS, SECURE_VIEWER, Broker, StationAccount, poll_until
from paho.mqtt.enums import CallbackAPIVersion
from wardwatch.app.clock import ScaledClock
from wardwatch.app.domain import TechnicalEvent, TechnicalKind
from wardwatch.app.hospital.bench import bed_steps, beds_under_limit, percentile
from wardwatch.app.hospital.house import STATION_LOST_KEY, AppliedAlarms, HouseSnapshot, bed_key
from wardwatch.app.hospital.payloads import AckRequest, WavesWant, encode
from wardwatch.app.hospital.publisher import HospitalPublisher
from wardwatch.app.hospital.settings import MqttSettings, ViewTarget, parse_url
from wardwatch.app.hospital.viewer import AckOutcome, HospitalViewer
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.storage import database
from wardwatch.storage.database import make_engine
from wardwatch.storage.keys import DatabaseKey, read_key_file, write_key_file

ICU, CARDIO = SECURE_STATIONS
WARDWATCH = [sys.executable, "-m", "wardwatch.app.cli"]
T = TypeVar("T")

pytestmark = pytest.mark.timeout(180)


def wait_for(condition: Callable[[], T | None], timeout: float, what: str | Callable[[], str]) -> T:
    """Poll until `condition()` gives something truthy (generous timeouts: CI has two slow cores);
    `what` may be a function, to say how things stood when the wait gave up."""
    value = poll_until(condition, timeout, every_s=0.1)
    if value is None:
        pytest.fail(f"timed out after {timeout} s waiting for {what() if callable(what) else what}")
    return value


# -- stations as a user runs them ---------------------------------------------------------------------
@dataclass
class StationProcess:
    account: StationAccount
    process: subprocess.Popen[bytes]
    data_dir: Path
    key_file: Path
    stderr_path: Path

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self) -> int:
        """A clean stop, as the service manager does it (SIGTERM)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)

    def status_file(self) -> dict[str, object] | None:
        path = self.data_dir / "mqtt-status.json"
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            return None


# With this seed the first bed's simulated patient starts its first episode after the shortest lead-in
# (25 s), so an asystole bed alarms about half a minute after its station starts.
EARLY_SEED = 165


def start_station(
    folder: Path, broker: Broker, account: StationAccount, sources: list[str]
) -> StationProcess:
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / "station.key"
    write_key_file(key_file, DatabaseKey.new())
    beds = "".join(f'\n[[bed]]\nsource = "{s}"\ndevices = []\n' for s in sources)
    config = folder / "wardwatch.toml"
    config.write_text(
        f'[station]\nname = "Station {account.ward}"\nbed_count = {len(sources)}\nseed = {EARLY_SEED}\n\n'
        f'[mqtt]\nsite = "{account.site}"\nward = "{account.ward}"\nca_file = "{broker.ca_file}"\n'
        f'username = "{account.username}"\nkeepalive_s = 2\n{beds}'
    )
    data_dir = folder / "data"
    stderr_path = folder / "stderr.txt"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "WARDWATCH_MQTT_PASSWORD": account.password}
    with stderr_path.open("wb") as err:
        process = subprocess.Popen(
            [*WARDWATCH, "run", "--headless", "--config", str(config), "--data-dir", str(data_dir),
             "--key-file", str(key_file), "--mqtt", broker.url],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env,
        )  # fmt: skip
    return StationProcess(account, process, data_dir, key_file, stderr_path)


@pytest.fixture
def stations(tmp_path: Path) -> Iterator[list[StationProcess]]:
    """Started stations, each killed at the end if the test left it running."""
    started: list[StationProcess] = []
    yield started
    for station in started:
        station.kill()


# -- the viewer -----------------------------------------------------------------------------------------
def viewer_settings(broker: Broker) -> MqttSettings:
    return MqttSettings(
        url=parse_url(broker.url),
        site=SECURE_SITE,
        ward="rrt",
        ca_file=broker.ca_file,
        username=SECURE_VIEWER.username,
        password=SECURE_VIEWER.password,
        keepalive_s=2,
    )


@pytest.fixture
def viewer(mqtt_broker_secure: Broker) -> Iterator[HospitalViewer]:
    v = HospitalViewer(viewer_settings(mqtt_broker_secure), "rrt viewer", [ViewTarget(SECURE_SITE, "*")])
    v.start()
    try:
        wait_for(lambda: v.connected, 30, "the viewer to connect")
        yield v
    finally:
        v.close()


def snapshot(viewer: HospitalViewer) -> HouseSnapshot:
    return viewer.house.snapshot()


def station_seen(viewer: HospitalViewer, account: StationAccount, beds: int) -> bool:
    s = snapshot(viewer)
    station = s.station(f"{account.site}/{account.ward}")
    return (
        station is not None
        and station.state == "online"
        and not station.lost
        and len(s.beds_of(station.key)) == beds
    )


# -- a bare client for what no WardWatch part would send ------------------------------------------------
class RawClient:
    def __init__(self, broker: Broker, username: str, password: str) -> None:
        self.messages: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.username_pw_set(username, password)
        assert broker.ca_file is not None
        self.client.tls_set(ca_certs=str(broker.ca_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.on_message = lambda _c, _u, m: self.messages.put((m.topic, m.payload))
        self.client.connect("127.0.0.1", broker.tls_port, keepalive=5)
        self.client.loop_start()
        wait_for(self.client.is_connected, 30, "the raw client to connect")

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout=30)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# -- tests ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_viewer_sees_both_wards_and_a_remote_ack_reaches_the_owning_station_and_its_audit(
    tmp_path: Path, mqtt_broker_secure: Broker, viewer: HospitalViewer, stations: list[StationProcess]
) -> None:
    icu = start_station(tmp_path / "icu", mqtt_broker_secure, ICU, ["sim:asystole", "sim:stable"])
    cardio = start_station(tmp_path / "cardio", mqtt_broker_secure, CARDIO, ["sim:stable"])
    stations += [icu, cardio]
    wait_for(lambda: station_seen(viewer, ICU, 2), 60, lambda: f"the icu ward in the viewer\n{icu.stderr()}")
    wait_for(
        lambda: station_seen(viewer, CARDIO, 1),
        60,
        lambda: f"the cardio ward in the viewer\n{cardio.stderr()}",
    )

    bed = bed_key(SECURE_SITE, ICU.ward, "bed01")

    def an_alarm() -> object:
        remote = snapshot(viewer).bed(bed)
        return next((a for a in remote.alarms if a.acknowledged_by is None), None) if remote else None

    def answer(request: str | None) -> AckOutcome:
        assert request is not None
        return wait_for(
            lambda: (o := viewer.ack_outcome(request)) is not None and not o.waiting and o, 30, "the answer"
        )

    alarm = wait_for(an_alarm, 60, "an alarm of the asystole bed in the viewer")
    # a bedside nurse acknowledges at her own station only: the owning station refuses (and audits it)
    refused = answer(viewer.acknowledge(bed, alarm.alarm_id, alarm.key, "nurse.jones", "nurse"))
    assert refused.ok is False
    outcome = answer(viewer.acknowledge(bed, alarm.alarm_id, alarm.key, "dr.smith", "clinician"))
    assert outcome.ok, outcome.detail

    def shown_acknowledged() -> bool:
        """Acknowledged by dr.smith at the viewer, or gone (an alarm whose condition ended clears)."""
        remote = snapshot(viewer).bed(bed)
        shown = [a for a in (remote.alarms if remote else ()) if a.alarm_id == alarm.alarm_id]
        return all((a.acknowledged_by or "").startswith("dr.smith@") for a in shown)

    wait_for(shown_acknowledged, 30, "the acknowledgement back in the viewer")

    assert icu.stop() == 0, icu.stderr()
    engine = make_engine(icu.data_dir / database.DATABASE_NAME, read_key_file(icu.key_file))
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT user, action, target, outcome, detail FROM audit WHERE action LIKE 'alarm.ack%'"
            ).fetchall()
    finally:
        engine.dispose()
    assert any(
        user == "dr.smith" and target == "bed01" and result == "ok" and "rrt viewer" in detail
        for user, _action, target, result, detail in rows
    ), rows
    assert any(user == "nurse.jones" and result == "denied" for user, _a, _t, result, _d in rows), rows


@pytest.mark.slow
def test_a_station_killed_with_sigkill_is_flagged_lost_by_its_last_will_within_ten_seconds(
    tmp_path: Path, mqtt_broker_secure: Broker, viewer: HospitalViewer, stations: list[StationProcess]
) -> None:
    cardio = start_station(tmp_path / "cardio", mqtt_broker_secure, CARDIO, ["sim:stable", "sim:stable"])
    stations.append(cardio)
    wait_for(
        lambda: station_seen(viewer, CARDIO, 2),
        60,
        lambda: f"the cardio ward in the viewer\n{cardio.stderr()}",
    )
    killed = time.monotonic()
    cardio.process.send_signal(signal.SIGKILL)

    def flagged() -> bool:
        s = snapshot(viewer)
        beds = s.beds_of(f"{SECURE_SITE}/{CARDIO.ward}")
        return bool(beds) and all(
            b.station_lost and any(a.key == STATION_LOST_KEY for a in b.alarms) for b in beds
        )

    wait_for(flagged, 30, "the killed station's beds flagged as lost")
    assert time.monotonic() - killed <= 10.0


@pytest.mark.slow
def test_malformed_and_oversized_requests_are_rejected_with_a_log_line_and_the_station_keeps_publishing(
    tmp_path: Path, mqtt_broker_secure: Broker, viewer: HospitalViewer, stations: list[StationProcess]
) -> None:
    icu = start_station(tmp_path / "icu", mqtt_broker_secure, ICU, ["sim:stable"])
    stations.append(icu)
    wait_for(lambda: station_seen(viewer, ICU, 1), 60, lambda: f"the icu ward in the viewer\n{icu.stderr()}")
    raw = RawClient(mqtt_broker_secure, SECURE_VIEWER.username, SECURE_VIEWER.password)
    ward = f"wardwatch/{SECURE_SITE}/{ICU.ward}"
    good_ack = json.loads(
        encode(AckRequest("x-1", 1, "hr_high", "dr.smith", "clinician", "raw", time.time()))
    )
    bad: list[tuple[str, bytes]] = [
        (f"{ward}/bed01/ack", b"not json at all"),
        (f"{ward}/bed01/ack", b"\xff\xfe\x00 binary"),
        (f"{ward}/bed01/ack", json.dumps({**good_ack, "v": 99}).encode()),
        (f"{ward}/bed01/ack", json.dumps({**good_ack, "alarm_id": "seventeen"}).encode()),
        (f"{ward}/bed01/ack", json.dumps([1, 2, 3]).encode()),
        (f"{ward}/bed01/ack", b'{"v":1,"kind":"ack","id":"' + b"x" * 70_000 + b'"}'),
        (f"{ward}/bed77/ack", encode(AckRequest("x-2", 1, "hr_high", "dr.smith", "clinician", "raw", 0.0))),
        (f"{ward}/bed01/waves/want", json.dumps({"v": 1, "kind": "waves_want", "until": "soon"}).encode()),
        (f"{ward}/bed01/waves/want", b"{" * 100_000),
    ]
    try:
        for topic, payload in bad:
            raw.publish(topic, payload)
        # retained requests are refused too (an old request must not act again when a station restarts)
        raw.publish(f"{ward}/bed01/waves/want", encode(WavesWant("raw", time.time() + 10)), retain=True)
        sent = time.time()
        raw.client.subscribe(f"{ward}/_station/status", qos=1)

        def heartbeat_after_the_flood() -> bool:
            while True:
                try:
                    _topic, payload = raw.messages.get_nowait()
                except queue.Empty:
                    return False
                if json.loads(payload)["t"] > sent + 2:
                    return True

        wait_for(heartbeat_after_the_flood, 30, lambda: f"a heartbeat after the bad requests\n{icu.stderr()}")
        raw.publish(f"{ward}/bed01/waves/want", b"", retain=True)  # clear the retained request
    finally:
        raw.close()
    assert icu.process.poll() is None, icu.stderr()
    status = wait_for(
        lambda: (s := icu.status_file()) is not None and int(str(s["rejected"])) >= len(bad) and s,
        30,
        "the status file to count the rejected requests",
    )
    assert status["state"] == "connected"
    log = icu.stderr()
    assert "rejected MQTT" in log
    assert "Traceback" not in log
    assert station_seen(viewer, ICU, 1)


def raise_events_through_a_broker_outage(
    broker: Broker, viewer: HospitalViewer, *, viewer_back_last: bool = False
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """An in-process station, so alarm events can be raised exactly while the broker is dead: four
    before, SIGKILL of the broker, six during the outage, the broker back. Returns the low-battery
    events (bed, action) the station's engine raised and those the viewer's model applied, in order."""
    station = Station(
        StationSetup("Station icu", [BedSetup("Bed 1", "sim:stable"), BedSetup("Bed 2", "sim:stable")]),
        ScaledClock(1.0),
    )
    engine_events = station.alarms.subscribe()
    applied: queue.SimpleQueue[AppliedAlarms] = queue.SimpleQueue()
    viewer.house.add_listener(applied.put)
    settings = MqttSettings(
        url=parse_url(broker.url),
        site=ICU.site,
        ward=ICU.ward,
        ca_file=broker.ca_file,
        username=ICU.username,
        password=ICU.password,
        keepalive_s=2,
    )
    station.start()
    publisher = HospitalPublisher(station, settings)
    publisher.start()
    raised: list[tuple[str, str]] = []
    seen: list[tuple[str, str]] = []
    toggles = {"bed01": False, "bed02": False}

    def toggle(bed: str) -> None:
        toggles[bed] = not toggles[bed]
        station.hub.push_event(
            TechnicalEvent(bed, TechnicalKind.LOW_BATTERY, toggles[bed], station.clock.now(), "test")
        )

    def drain() -> None:
        while not engine_events.empty():
            e = engine_events.get_nowait()
            if e.key == "technical:low_battery":
                raised.append((e.bed, e.action.value))
        while not applied.empty():
            a = applied.get_nowait()
            if a.action is not None and a.bed.endswith(("/bed01", "/bed02")):
                seen.append((a.bed.rsplit("/", 1)[1], a.action))

    def low_battery_seen() -> list[tuple[str, str]]:
        return [s for s in seen if s in raised]

    try:
        wait_for(lambda: station_seen(viewer, ICU, 2), 60, "the station in the viewer")
        for bed in ("bed01", "bed02", "bed01", "bed02"):
            toggle(bed)
            time.sleep(0.6)
        wait_for(lambda: (drain(), len(raised) >= 4 and low_battery_seen() == raised)[1], 30, "events")

        if viewer_back_last:
            # paho's own back-off: the station retries every second, the viewer every 5 s, so the
            # station is back and has sent its backlog before the viewer reconnects
            publisher.connection._client.reconnect_delay_set(min_delay=1, max_delay=1)
            viewer.connection._client.reconnect_delay_set(min_delay=5, max_delay=5)
        broker.kill()
        wait_for(lambda: not publisher.connection.connected, 30, "the station to notice the broker is gone")
        before = len(raised)
        for bed in ("bed01", "bed02", "bed01", "bed02", "bed01", "bed02"):
            toggle(bed)
            time.sleep(0.6)
        wait_for(lambda: (drain(), len(raised) >= before + 6)[1], 30, "the engine to raise during the outage")
        assert publisher.backlog >= 1

        broker.start()
        wait_for(
            lambda: publisher.connection.connected and publisher.backlog == 0,
            60,
            lambda: f"the backlog sent: {publisher.status()}",
        )
        assert publisher.counters.events_dropped == 0
        wait_for(lambda: viewer.connected, 60, "the viewer back")
        deadline = time.monotonic() + 20  # then the caller compares what arrived
        while (drain(), len(low_battery_seen()) < len(raised))[1] and time.monotonic() < deadline:
            time.sleep(0.1)
        return raised, low_battery_seen()
    finally:
        publisher.close()
        station.stop()


@pytest.mark.slow
def test_killing_the_broker_and_restarting_it_loses_no_alarm_event(
    mqtt_broker_secure: Broker, viewer: HospitalViewer
) -> None:
    raised, seen = raise_events_through_a_broker_outage(mqtt_broker_secure, viewer)
    assert len(raised) == 10
    assert seen == raised


@pytest.mark.slow
def test_a_viewer_that_reconnects_after_the_station_still_gets_the_events_of_the_outage(
    mqtt_broker_secure: Broker, viewer: HospitalViewer
) -> None:
    raised, seen = raise_events_through_a_broker_outage(mqtt_broker_secure, viewer, viewer_back_last=True)
    assert len(raised) == 10
    assert seen == raised


# -- the bench's arithmetic (the bench itself runs for minutes: `wardwatch bench mqtt`) ------------------
def test_bench_doubles_the_station_from_eight_beds_up_to_the_largest() -> None:
    assert bed_steps(64) == [8, 16, 32, 64]
    assert bed_steps(100) == [8, 16, 32, 64, 100]


def test_bench_reports_the_largest_station_under_ten_percent_and_says_when_it_extrapolates() -> None:
    steps = [
        {"beds": 8, "publisher_cpu_percent": 1.0},
        {"beds": 16, "publisher_cpu_percent": 2.0},
        {"beds": 32, "publisher_cpu_percent": 12.0},
    ]
    limit = beds_under_limit(steps)
    assert limit["largest_measured_under_limit"] == 16 and not limit["estimate_extrapolated"]
    assert limit["estimated_beds_at_limit"] == 28  # between 16 beds at 2 % and 32 beds at 12 %
    assert beds_under_limit(steps[:2])["estimate_extrapolated"]
    assert beds_under_limit(steps[:2])["estimated_beds_at_limit"] == 80


def test_bench_percentiles_pick_measured_values() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) in (50.0, 51.0)
    assert percentile(values, 99) == 99.0
