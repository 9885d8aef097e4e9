"""`wardwatch bench interop`: how fast the HL7 links deliver, on loopback, from a real encrypted outbox.

1. Build rate: PCD-01 messages built and validated by hl7apy per second (one per bed, a realistic bed).
2. Backlog drain: an outage of `outage_hours` for `beds` beds leaves one PCD-01 per bed per minute and
   four alarm changes (PCD-04) per bed per hour in the outbox while the receiver is down; the receiver
   comes back and the links drain it. Reported: time from the receiver's return to an empty outbox,
   and messages per second between the first and the last delivery. The backlog's messages are copies of
   the built ones with their control ids renewed (building 2,000 messages would measure hl7apy again).
3. Sustained rate: a producer keeps the outbox filled while the link delivers for `seconds`.
The receiver is `peer.MllpPeer` answering AA without validating (the engine's own cost is not ours).
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from wardwatch.app.alarms.model import Action, Category, Priority
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import Patient
from wardwatch.app.interop import hl7_messages
from wardwatch.app.interop.links import Link, MllpTransport
from wardwatch.app.interop.peer import MllpPeer
from wardwatch.app.interop.reports import AlarmReport, BedReport, Identity, Numeric, station_eui64
from wardwatch.storage.database import open_record
from wardwatch.storage.interop_queue import OutboxMessage, OutboxQueue
from wardwatch.storage.keys import DatabaseKey, write_key_file

IDENTITY = Identity("WARDWATCH", station_eui64("bench"), "WARD")
UNITS = {
    MdcCode.ECG_HEART_RATE: "/min",
    MdcCode.PULS_OXIM_SAT_O2: "%",
    MdcCode.PULS_OXIM_PULS_RATE: "/min",
    MdcCode.RESP_RATE: "/min",
    MdcCode.PRESS_BLD_NONINV_SYS: "mm[Hg]",
    MdcCode.PRESS_BLD_NONINV_DIA: "mm[Hg]",
    MdcCode.PRESS_BLD_NONINV_MEAN: "mm[Hg]",
    MdcCode.TEMP_BODY: "Cel",
}
VALUES = (72.0, 97.0, 71.0, 16.0, 121.0, 79.0, 93.0, 36.8)


def _bed_report(bed: int, t: float) -> BedReport:
    patient = Patient(f"BENCH{bed:04d}", "Bench", f"Patient {bed}", dt.date(1950, 1, 1))
    numerics = tuple(Numeric(code, v, UNITS[code], t - 2) for code, v in zip(UNITS, VALUES, strict=True))
    return BedReport(f"bed{bed:02d}", f"Bed {bed}", patient, t, numerics)


def _renamed(message: OutboxMessage, control: str) -> OutboxMessage:
    return OutboxMessage(
        message.link,
        control,
        message.kind,
        message.bed_id,
        message.payload.replace(message.control_id, control),
    )


def _wait(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def bench_interop(beds: int, outage_hours: float, seconds: float, folder: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        return _bench(beds, outage_hours, seconds, Path(tmp))


def _bench(beds: int, outage_hours: float, seconds: float, tmp: Path) -> dict[str, Any]:
    key = tmp / "bench.key"
    write_key_file(key, DatabaseKey.new())
    record = open_record(tmp / "data", key_file=key)
    queue = OutboxQueue(record.engine)
    now = time.time()
    result: dict[str, Any] = {"beds": beds, "outage_hours": outage_hours}

    started = time.perf_counter()
    templates = []
    for bed in range(1, beds + 1):
        control = f"T{bed}"
        text = hl7_messages.pcd01(_bed_report(bed, now), IDENTITY, control).to_er7()
        templates.append(OutboxMessage("hl7", control, "ORU^R01", f"bed{bed:02d}", text))
    result["pcd01_built_per_s"] = round(beds / (time.perf_counter() - started), 1)
    alarm = AlarmReport(
        "bed01",
        "Bed 1",
        _bed_report(1, now).patient,
        now,
        "ref",
        "spo2_low",
        "SpO2 86 < 90",
        Category.PHYSIOLOGICAL,
        Priority.MEDIUM,
        Action.RAISED,
        MdcCode.PULS_OXIM_SAT_O2,
    )
    alarm_template = OutboxMessage(
        "alarms", "A0", "ORU^R40", "bed01", hl7_messages.pcd04(alarm, IDENTITY, "A0").to_er7()
    )

    # -- the outage's backlog, queued while the receiver is away -----------------------------------
    minutes = round(outage_hours * 60)
    backlog = [_renamed(templates[b], f"O{m}-{b}") for m in range(minutes) for b in range(beds)]
    alarms = [_renamed(alarm_template, f"OA{i}") for i in range(round(4 * outage_hours * beds))]
    started = time.perf_counter()
    for i in range(0, len(backlog), 500):
        queue.enqueue(backlog[i : i + 500])
    queue.enqueue(alarms)
    result["queued_per_s"] = round((len(backlog) + len(alarms)) / (time.perf_counter() - started), 1)
    result["backlog_messages"] = len(backlog) + len(alarms)

    probe = MllpPeer(validate=False)
    port = probe.port
    probe.close()
    links = [
        Link(name, MllpTransport("127.0.0.1", port), queue, 10.0, max_backoff=1.0)
        for name in ("hl7", "alarms")
    ]
    for link in links:
        link.start()
    _wait(lambda: all(link.status.state == "down" for link in links), 10.0)
    peer = MllpPeer(port=port, validate=False)
    back = time.perf_counter()
    first: list[float] = []
    _wait(lambda: bool(peer.received.control_ids) and not first.append(time.perf_counter()), 30.0)
    drained = _wait(
        lambda: queue.backlog("hl7").pending == 0 and queue.backlog("alarms").pending == 0, 3600.0
    )
    done = time.perf_counter()
    delivered = len(peer.received.control_ids)
    result["drained"] = drained
    result["drain_s"] = round(done - back, 2)
    result["reconnect_s"] = round(first[0] - back, 2) if first else None
    result["drain_msgs_per_s"] = round(delivered / max(1e-9, done - (first[0] if first else back)), 1)
    result["lost"] = result["backlog_messages"] - len(set(peer.received.control_ids))
    result["duplicates"] = peer.received.duplicates

    # -- sustained: a producer keeps the queue filled while the link delivers -----------------------
    for link in links:
        link.stop()
    stop = threading.Event()
    produced = [0]

    def produce() -> None:
        while not stop.is_set():
            if queue.backlog("hl7").pending < 200:
                batch = [
                    _renamed(templates[(produced[0] + i) % beds], f"S{produced[0] + i}") for i in range(200)
                ]
                queue.enqueue(batch)
                produced[0] += len(batch)
            else:
                time.sleep(0.01)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    _wait(lambda: produced[0] > 0, 10.0)
    link = Link("hl7", MllpTransport("127.0.0.1", port), queue, 10.0)
    before = len(peer.received.control_ids)
    link.start()
    time.sleep(seconds)
    sustained = len(peer.received.control_ids) - before
    link.stop()
    stop.set()
    producer.join(5.0)
    peer.close()
    record.close()
    result["sustained_seconds"] = seconds
    result["sustained_msgs_per_s"] = round(sustained / seconds, 1)
    return result
