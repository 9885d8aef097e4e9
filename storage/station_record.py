"""Wiring the encrypted record into a running station (the composition root calls `attach_record`).

The record follows the station: its waves, numerics and technical events (through the recorder), its
alarm journal, and every admission and discharge. A writer that cannot write becomes the station's
own technical alarm "Recording stopped" — monitoring and alarms go on — and clears when it recovers.
"""

from __future__ import annotations

import logging
import signal
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from wardwatch.app.alarms.engine import STATION_USER
from wardwatch.app.domain import TechnicalKind
from wardwatch.app.record_queries import JournalLine
from wardwatch.app.security.service import acting_user
from wardwatch.app.station import Station, WardChange
from wardwatch.storage.database import Record, open_record
from wardwatch.storage.reader import RecordReader
from wardwatch.storage.recorder import Recorder
from wardwatch.storage.writer import RecordWriter, Retention, WriterState

log = logging.getLogger(__name__)


@dataclass
class StationRecord:
    record: Record
    writer: RecordWriter
    recorder: Recorder
    reader: RecordReader

    def close(self) -> None:
        self.recorder.stop()
        self.writer.stop()
        self.record.close()


def ignore_file_size_signal() -> None:
    """A file-size limit (RLIMIT_FSIZE) sends SIGXFSZ, which would kill the station; ignored, the
    write fails instead and becomes "recording stopped" like a full disk."""
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def attach_record(
    station: Station, data_dir: Path, key_file: Path | None = None, retention: Retention | None = None
) -> StationRecord:
    """Open the record in `data_dir` and start recording the station into it (raises RecordError)."""
    record = open_record(data_dir, key_file=key_file)

    def on_state(state: WriterState) -> None:
        detail = "" if state.recording else f"the record cannot be written: {state.reason}"
        station.recording = "on" if state.recording else "STOPPED (see alarm)"
        station.station_condition(TechnicalKind.RECORDING_STOPPED, not state.recording, detail)

    writer = RecordWriter(record.engine, retention, on_state=on_state, clock=station.clock.now)
    recorder = Recorder(station.hub, writer, alarm_journal=station.alarms.subscribe())

    def on_ward_change(change: WardChange) -> Future[None]:
        # who did it: the user on the station (the window checked their right just before); never the
        # patient's details, which stay in the admissions alone. The writer chains the row.
        detail = change.bed_id if change.kind != "source" else f"{change.bed_id} {change.source or 'none'}"
        user = acting_user(station.services, STATION_USER)
        recorder.audit(user, f"ward {change.kind}", detail, change.time, target=change.bed_id)
        if change.kind == "admit" and change.patient is not None:
            return recorder.admitted(change.bed_id, change.patient, change.time)
        if change.kind == "source":
            return recorder.device(change.bed_id, change.source, change.time)
        return recorder.discharged(change.bed_id, change.time)

    station.ward_listeners.append(on_ward_change)
    recorder.beds([(b.bed_id, b.label, b.source_spec) for b in station.beds], station.clock.now())
    writer.start()
    recorder.start()
    station.recording = "on"
    reader = record.reader()

    def journal(start: float, end: float) -> list[JournalLine]:
        return [
            JournalLine(e.time, e.bed, e.kind, e.key, e.priority, e.user, e.detail)
            for e in reader.events(None, start, end)
        ]

    station.queries.journal = journal
    log.info("recording into %s", record.path)
    return StationRecord(record, writer, recorder, reader)
