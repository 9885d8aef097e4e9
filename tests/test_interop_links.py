"""Store-and-forward over MLLP to a real receiver on loopback, with the queue in a real SQLCipher record."""

from __future__ import annotations

import datetime as dt
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_interop_certs import make_ca_and_server_cert
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import Patient
from wardwatch.app.interop import hl7_messages
from wardwatch.app.interop.links import Link, MllpTransport, client_tls
from wardwatch.app.interop.peer import MllpPeer
from wardwatch.app.interop.reports import BedReport, Identity, Numeric, station_eui64
from wardwatch.storage.database import open_record
from wardwatch.storage.interop_queue import OutboxMessage, OutboxQueue
from wardwatch.storage.keys import DatabaseKey, write_key_file

IDENTITY = Identity("WARDWATCH", station_eui64("test"), "WARD")
PATIENT = Patient("MRN7", "Doe", "John", dt.date(1960, 5, 6))


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "station.key"
    write_key_file(path, DatabaseKey.new())
    return path


@pytest.fixture
def record(tmp_path: Path, key_file: Path):
    rec = open_record(tmp_path / "data", key_file=key_file)
    yield rec
    rec.close()


def _messages(n: int, start: int = 0, bed: str = "bed01") -> list[OutboxMessage]:
    out = []
    for i in range(start, start + n):
        control = f"WWTEST-{i}"
        report = BedReport(
            bed,
            "Bed 1",
            PATIENT,
            1_800_000_000.0 + 60 * i,
            (Numeric(MdcCode.ECG_HEART_RATE, 60 + i % 40, "/min", 1_800_000_000.0 + 60 * i),),
        )
        out.append(
            OutboxMessage(
                "hl7", control, "ORU^R01", bed, hl7_messages.pcd01(report, IDENTITY, control).to_er7()
            )
        )
    return out


def _wait(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _link(queue: OutboxQueue, port: int, timeout: float = 2.0, **kw) -> Link:
    link = Link("hl7", MllpTransport("127.0.0.1", port), queue, timeout, max_backoff=0.5, **kw)
    link.start()
    return link


def test_every_message_reaches_a_real_mllp_peer_validates_and_leaves_the_queue_once_acked(record):
    queue = OutboxQueue(record.engine)
    queue.enqueue(_messages(20))
    peer = MllpPeer()
    link = _link(queue, peer.port)
    try:
        assert _wait(lambda: queue.backlog("hl7").pending == 0)
    finally:
        link.stop()
        peer.close()
    assert peer.received.control_ids == [f"WWTEST-{i}" for i in range(20)]  # in order, each once
    assert peer.received.invalid == {}
    backlog = queue.backlog("hl7")
    assert (backlog.pending, backlog.refused, backlog.sent) == (0, 0, 20)
    assert link.status.sent == 20


def test_a_control_id_queued_twice_is_sent_once(record):
    queue = OutboxQueue(record.engine)
    assert queue.enqueue(_messages(3)) == 3
    assert queue.enqueue(_messages(3)) == 0
    assert queue.backlog("hl7").pending == 3


def test_ae_answers_are_tried_again_then_kept_as_refused_not_lost(record):
    queue = OutboxQueue(record.engine)
    queue.enqueue(_messages(2))
    peer = MllpPeer(mode="ae", validate=False)
    link = Link("hl7", MllpTransport("127.0.0.1", peer.port), queue, 2.0, max_refusals=2, max_backoff=0.2)
    link.start()
    try:
        assert _wait(lambda: queue.backlog("hl7").refused == 2)
    finally:
        link.stop()
        peer.close()
    assert peer.received.control_ids.count("WWTEST-0") == 2
    assert queue.backlog("hl7").pending == 0
    assert "AE" in link.status.last_error
    assert queue.requeue_refused("hl7") == 2
    assert queue.backlog("hl7").pending == 2


def test_a_receiver_that_drops_every_connection_leaves_everything_queued_and_the_link_down(record):
    queue = OutboxQueue(record.engine)
    queue.enqueue(_messages(3))
    peer = MllpPeer(mode="drop")
    link = _link(queue, peer.port)
    try:
        assert _wait(lambda: link.status.state == "down" and link.status.down_since is not None)
        time.sleep(0.5)
    finally:
        link.stop()
        peer.close()
    assert queue.backlog("hl7").pending == 3
    assert "closed" in link.status.last_error or "ACK" in link.status.last_error


def test_a_receiver_that_stays_silent_is_timed_out_and_the_message_kept(record):
    queue = OutboxQueue(record.engine)
    queue.enqueue(_messages(1))
    peer = MllpPeer(mode="silent", validate=False)
    link = _link(queue, peer.port, timeout=0.5)
    try:
        assert _wait(lambda: "no ACK" in link.status.last_error)
    finally:
        link.stop()
        peer.close()
    assert queue.backlog("hl7").pending == 1


def test_a_receiver_restarting_mid_stream_loses_nothing_and_stores_each_message_once(record):
    queue = OutboxQueue(record.engine)
    queue.enqueue(_messages(30))
    # the first receiver takes 10 messages, then dies before answering the 10th
    first = MllpPeer(drop_first=10, validate=False)
    port = first.port
    link = _link(queue, port)
    try:
        assert _wait(lambda: len(first.received.control_ids) >= 10 and link.status.state == "down")
        first.close()
        second = MllpPeer(port=port)
        try:
            assert _wait(lambda: queue.backlog("hl7").pending == 0, 30.0)
        finally:
            second.close()
    finally:
        link.stop()
    stored = {**first.received.messages, **second.received.messages}
    assert sorted(stored) == sorted(f"WWTEST-{i}" for i in range(30))
    # the one whose ACK was lost came again with the same control id, so the engine files it once
    assert set(first.received.messages) & set(second.received.messages) == {"WWTEST-9"}
    assert second.received.duplicates == 0
    assert second.received.invalid == {}


def test_a_wardwatch_restart_mid_stream_loses_and_duplicates_nothing(tmp_path, key_file):
    data = tmp_path / "data"
    rec = open_record(data, key_file=key_file)
    queue = OutboxQueue(rec.engine)
    queue.enqueue(_messages(40))
    peer = MllpPeer(validate=False, answer_delay=0.05)
    link = _link(queue, peer.port)
    assert _wait(lambda: len(peer.received.control_ids) >= 5)
    link.stop()  # the station closes mid-stream
    rec.close()
    delivered_before = len(peer.received.control_ids)
    assert 0 < delivered_before < 40

    rec = open_record(data, key_file=key_file)  # the station starts again on the same record
    queue = OutboxQueue(rec.engine)
    assert queue.backlog("hl7").pending == 40 - delivered_before
    link = _link(queue, peer.port)
    try:
        assert _wait(lambda: queue.backlog("hl7").pending == 0)
    finally:
        link.stop()
        peer.close()
        rec.close()
    assert peer.received.control_ids == [f"WWTEST-{i}" for i in range(40)]
    assert peer.received.duplicates == 0


def test_a_closed_port_keeps_the_backlog_until_the_receiver_appears(record):
    queue = OutboxQueue(record.engine)
    peer = MllpPeer(validate=False)
    port = peer.port
    peer.close()
    queue.enqueue(_messages(5))
    link = _link(queue, port)
    try:
        assert _wait(lambda: link.status.state == "down")
        assert queue.backlog("hl7").pending == 5
        peer = MllpPeer(port=port, validate=False)
        assert _wait(lambda: queue.backlog("hl7").pending == 0, 30.0)
        assert link.status.state in ("up", "idle") and link.status.down_since is None
    finally:
        link.stop()
        peer.close()


def test_the_link_speaks_tls_to_a_peer_whose_certificate_the_ca_file_vouches_for(record, tmp_path):
    ca_file, cert_file, key_file = make_ca_and_server_cert(tmp_path)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    queue = OutboxQueue(record.engine)
    queue.enqueue(_messages(3))
    peer = MllpPeer(tls=server)
    link = Link("hl7", MllpTransport("127.0.0.1", peer.port, client_tls(str(ca_file))), queue, 5.0)
    link.start()
    try:
        assert _wait(lambda: queue.backlog("hl7").pending == 0)
    finally:
        link.stop()
        peer.close()
    assert len(peer.received.messages) == 3 and peer.received.invalid == {}


def test_tls_refuses_a_peer_the_ca_file_does_not_vouch_for(record, tmp_path):
    _ca, cert_file, key_file = make_ca_and_server_cert(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    other_ca, _c, _k = make_ca_and_server_cert(other)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    queue = OutboxQueue(record.engine)
    queue.enqueue(_messages(1))
    peer = MllpPeer(tls=server, validate=False)
    link = Link("hl7", MllpTransport("127.0.0.1", peer.port, client_tls(str(other_ca))), queue, 2.0)
    link.start()
    try:
        assert _wait(lambda: "TLS" in link.status.last_error)
    finally:
        link.stop()
        peer.close()
    assert queue.backlog("hl7").pending == 1
    assert peer.received.control_ids == []


CRASHING_STATION = """
import sys, time
from pathlib import Path
from wardwatch.app.interop.links import Link, MllpTransport
from wardwatch.storage.database import open_record
from wardwatch.storage.interop_queue import OutboxQueue
record = open_record(Path(sys.argv[1]), key_file=Path(sys.argv[2]))
queue = OutboxQueue(record.engine)
link = Link("hl7", MllpTransport("127.0.0.1", int(sys.argv[3])), queue, 2.0)
link.start()
while link.status.sent < int(sys.argv[4]):
    time.sleep(0.001)
import os
os._exit(9)  # killed mid-stream: no clean stop, no last marks
"""


def test_a_station_killed_mid_stream_loses_nothing_and_repeats_only_under_the_same_control_ids(
    tmp_path, key_file
):
    data = tmp_path / "data"
    rec = open_record(data, key_file=key_file)
    OutboxQueue(rec.engine).enqueue(_messages(60))
    rec.close()
    peer = MllpPeer(validate=False, answer_delay=0.01)
    try:
        script = tmp_path / "station.py"
        script.write_text(CRASHING_STATION)
        killed = subprocess.run(
            [sys.executable, str(script), str(data), str(key_file), str(peer.port), "25"], timeout=120
        )
        assert killed.returncode == 9
        assert 25 <= len(peer.received.control_ids) < 60
        rec = open_record(data, key_file=key_file)  # the station starts again
        queue = OutboxQueue(rec.engine)
        link = _link(queue, peer.port)
        try:
            assert _wait(lambda: queue.backlog("hl7").pending == 0)
        finally:
            link.stop()
            rec.close()
    finally:
        peer.close()
    received = peer.received.control_ids
    assert set(received) == {f"WWTEST-{i}" for i in range(60)}  # nothing lost
    # what was accepted but not yet marked when the station died comes again, with its own control id,
    # so the engine can drop it; nothing else repeats
    assert peer.received.duplicates <= 20
