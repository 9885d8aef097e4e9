"""Inbound ADT over MLLP on a real loopback socket: admit, transfer, discharge and update change the
station's beds; bad input is answered or dropped and the listener goes on."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
from pathlib import Path

import pytest
from test_interop_certs import make_ca_and_server_cert
from wardwatch.app.clock import FixedClock
from wardwatch.app.interop.adt import AdtRefused, parse_adt
from wardwatch.app.interop.adt_server import AdtServer, server_tls
from wardwatch.app.interop.mllp import END, START, MllpReader, frame
from wardwatch.app.interop.reports import Identity
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.storage.database import open_record
from wardwatch.storage.interop_queue import OutboxQueue
from wardwatch.storage.keys import DatabaseKey, write_key_file

T0 = 1_800_000_000.0
IDENTITY = Identity("WARDWATCH", "0200000000000001", "WARD")


def adt(
    event: str, control: str, mrn: str = "MRN1", bed: str = "Bed 2", prior: str = "", name: str = "DOE^JANE"
):
    structure = {"A01": "ADT_A01", "A02": "ADT_A02", "A03": "ADT_A03", "A08": "ADT_A01"}[event]
    return (
        f"MSH|^~\\&|EPIC|HOSP|WARDWATCH|WARD|20261202080000||ADT^{event}^{structure}|{control}|P|2.6\r"
        f"EVN|{event}|20261202080000\r"
        f"PID|1||{mrn}^^^HOSP^MR||{name}||19450311|F\r"
        f"PV1|1|I|WARD^^{bed}|||{prior}\r"
    )


@pytest.fixture
def ward(tmp_path: Path):
    key = tmp_path / "k"
    write_key_file(key, DatabaseKey.new())
    record = open_record(tmp_path / "data", key_file=key)
    station = Station(
        StationSetup("Test ward", [BedSetup(f"Bed {i}", None) for i in range(1, 5)]), FixedClock(T0)
    )
    server = AdtServer(station, OutboxQueue(record.engine), IDENTITY, 0, host="127.0.0.1", max_frame=20_000)
    server.start()
    yield station, server
    server.close()
    station.stop()
    record.close()


class Engine:
    """The hospital's interface engine: one connection, one message, one answer."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.reader = MllpReader()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self) -> dict[str, str]:
        while True:
            data = self.sock.recv(65536)
            assert data, "the listener closed the connection"
            for item in self.reader.feed(data):
                assert isinstance(item, bytes)
                segs = {s.split("|")[0]: s.split("|") for s in item.decode().split("\r") if s}
                return {
                    "code": segs["MSA"][1],
                    "control": segs["MSA"][2],
                    "err": "|".join(segs.get("ERR", [])),
                }

    def send(self, text: str) -> dict[str, str]:
        self.send_raw(frame(text))
        return self.answer()

    def close(self) -> None:
        self.sock.close()


def test_adt_admit_transfer_update_and_discharge_change_the_beds(ward):
    station, server = ward
    engine = Engine(server.port)
    try:
        assert engine.send(adt("A01", "C1", bed="Bed 2")) == {"code": "AA", "control": "C1", "err": ""}
        assert station.bed("bed02").patient.mrn == "MRN1"
        assert station.bed("bed02").patient.family_name == "DOE"
        assert engine.send(adt("A02", "C2", bed="Bed 4", prior="WARD^^Bed 2"))["code"] == "AA"
        assert station.bed("bed02").patient is None
        assert station.bed("bed04").patient.mrn == "MRN1"
        assert engine.send(adt("A08", "C3", bed="Bed 4", name="DOE-SMITH^JANE"))["code"] == "AA"
        assert station.bed("bed04").patient.family_name == "DOE-SMITH"
        assert engine.send(adt("A03", "C4", bed="Bed 4"))["code"] == "AA"
        assert all(b.patient is None for b in station.beds)
    finally:
        engine.close()
    assert server.status.accepted == 4


def test_an_admit_to_an_occupied_or_unknown_bed_is_answered_ae_and_changes_nothing(ward):
    station, server = ward
    engine = Engine(server.port)
    try:
        assert engine.send(adt("A01", "D1", mrn="M1", bed="Bed 1"))["code"] == "AA"
        occupied = engine.send(adt("A01", "D2", mrn="M2", bed="Bed 1"))
        assert occupied["code"] == "AE" and "already has a patient" in occupied["err"]
        unknown = engine.send(adt("A01", "D3", mrn="M3", bed="Bed 99"))
        assert unknown["code"] == "AE" and "not a bed of this station" in unknown["err"]
        assert engine.send(adt("A03", "D4", mrn="NOBODY"))["code"] == "AE"
    finally:
        engine.close()
    assert [b.patient.mrn if b.patient else None for b in station.beds] == ["M1", None, None, None]


def test_an_adt_sent_again_gets_the_same_answer_and_is_applied_once(ward):
    station, server = ward
    engine = Engine(server.port)
    try:
        assert engine.send(adt("A01", "E1", bed="Bed 3"))["code"] == "AA"
        assert engine.send(adt("A03", "E2", bed="Bed 3"))["code"] == "AA"
        # the engine missed our ACK of the admission and sends it again, after the discharge
        assert engine.send(adt("A01", "E1", bed="Bed 3"))["code"] == "AA"
    finally:
        engine.close()
    assert station.bed("bed03").patient is None  # not admitted a second time


def test_malformed_messages_are_answered_ar_or_ae_and_logged_without_patient_data(ward, caplog):
    station, server = ward
    engine = Engine(server.port)
    caplog.set_level(logging.INFO)
    try:
        unsupported = engine.send(adt("A01", "F1").replace("ADT^A01^ADT_A01", "ADT^A40^ADT_A39"))
        assert unsupported["code"] == "AR" and "A40" in unsupported["err"]
        no_pid = engine.send(
            "MSH|^~\\&|EPIC|HOSP|||20261202||ADT^A01^ADT_A01|F2|P|2.6\rPV1|1|I|WARD^^Bed 1\r"
        )
        assert no_pid["code"] == "AE"
        bad_date = engine.send(adt("A01", "F3").replace("19450311", "1945-03-11"))
        assert bad_date["code"] == "AE" and "PID-7" in bad_date["err"]
        no_name = engine.send(adt("A01", "F4", name=""))
        assert no_name["code"] == "AE"
        not_hl7 = engine.send("hello, is this the station?")
        assert not_hl7["code"] == "AR"
    finally:
        engine.close()
    assert all(b.patient is None for b in station.beds)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for phi in ("DOE", "JANE", "MRN1", "19450311"):
        assert phi not in logged


def test_garbage_and_oversized_frames_are_dropped_and_the_listener_answers_the_next_message(ward):
    station, server = ward
    engine = Engine(server.port)
    try:
        engine.send_raw(b"\x00\xffGET / HTTP/1.1\r\n\r\n")
        engine.send_raw(START + b"X" * 50_000 + END)  # over the listener's 20 kB limit
        assert engine.send(adt("A01", "G1", bed="Bed 1"))["code"] == "AA"
    finally:
        engine.close()
    assert station.bed("bed01").patient is not None
    assert server.status.dropped_frames == 2
    # a connection that sent junk and vanished leaves the listener serving others
    junk = socket.create_connection(("127.0.0.1", server.port))
    junk.sendall(START + b"\x00" * 1000)
    junk.close()
    again = Engine(server.port)
    try:
        assert again.send(adt("A03", "G2", bed="Bed 1"))["code"] == "AA"
    finally:
        again.close()


@pytest.mark.parametrize(
    "text",
    ["", "MSH", "MSH|", "MSH|^~\\&", "PID|1||x\r", "MSH|^~\\&|||||||ADT^A01|X|P|2.6\rPID|||\rPV1|||\r"],
)
def test_parse_adt_refuses_fragments_with_adt_refused_only(text):
    with pytest.raises(AdtRefused):
        parse_adt(text)


def test_the_adt_listener_speaks_tls_to_an_engine_that_trusts_the_hospital_ca(tmp_path):
    ca_file, cert_file, key_file = make_ca_and_server_cert(tmp_path)
    key = tmp_path / "k"
    write_key_file(key, DatabaseKey.new())
    record = open_record(tmp_path / "data", key_file=key)
    station = Station(StationSetup("TLS ward", [BedSetup("Bed 1", None)]), FixedClock(T0))
    tls = server_tls(str(cert_file), str(key_file), None)
    server = AdtServer(station, OutboxQueue(record.engine), IDENTITY, 0, host="127.0.0.1", tls=tls)
    server.start()
    try:
        client = ssl.create_default_context(cafile=str(ca_file))
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        with client.wrap_socket(raw, server_hostname="localhost") as sock:
            sock.sendall(frame(adt("A01", "T1", bed="Bed 1")))
            answer = MllpReader().feed(sock.recv(65536))[0]
        assert b"MSA|AA|T1" in answer
        assert station.bed("bed01").patient is not None
        # a client speaking plain MLLP to the TLS port gets nothing applied
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as plain:
            plain.sendall(frame(adt("A03", "T2", bed="Bed 1")))
            with contextlib.suppress(OSError):
                plain.recv(100)
        assert station.bed("bed01").patient is not None
    finally:
        server.close()
        station.stop()
        record.close()
