"""The interfaces beside a running station: what to send, the links that send it, the ADT listener,
the link-down technical alarm and the status file that `wardwatch interop status` reads.

One producer thread turns the station's alarm journal and, per occupied bed, its numerics (every
`numerics_interval_s` and at admission) into messages, and puts them in the encrypted outbox; the links
(links.py) deliver from there. Nothing here runs on the GUI thread: the admin dialog's requests (new
settings, re-queue refused messages) are handed to the producer thread and carried out there.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from wardwatch.app.alarms.findings import ARRHYTHMIA_PREFIX, TECHNICAL_PREFIX, category_of
from wardwatch.app.alarms.model import Alarm, AlarmEvent
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import TechnicalKind
from wardwatch.app.interop import fhir_build, hl7_messages
from wardwatch.app.interop.adt_server import AdtServer, InboundStatus, server_tls
from wardwatch.app.interop.links import FhirTransport, Link, LinkStatus, MllpTransport, client_tls
from wardwatch.app.interop.reports import SENT_ACTIONS, AlarmReport, BedReport, Identity, Numeric
from wardwatch.app.interop.settings import InteropSettings, save_settings, split_host_port
from wardwatch.app.interop.vocabulary import reported
from wardwatch.app.station import Station, WardChange
from wardwatch.app.status_files import write_status_file
from wardwatch.storage.interop_queue import OutboxMessage, OutboxQueue

log = logging.getLogger(__name__)

STATUS_FILE = "interop-status.json"
PASS_S = 0.25
STATUS_EVERY_S = 2.0
KEEP_SENT_S = 7 * 86400.0
PURGE_EVERY_S = 3600.0
NO_DATA_RETRY_S = 5.0

HL7, ALARMS, FHIR = "hl7", "alarms", "fhir"


@dataclass(frozen=True, slots=True)
class InteropStatus:
    updated: float
    links: tuple[LinkStatus, ...]
    inbound: InboundStatus | None
    problem: str = ""  # a link that could not even be set up (bad TLS file, port taken)

    def to_json(self) -> dict[str, object]:
        return {
            "updated": self.updated,
            "pid": os.getpid(),
            "links": [asdict(s) for s in self.links],
            "inbound": asdict(self.inbound) if self.inbound is not None else None,
            "problem": self.problem,
        }


def alarm_text(key: str) -> str:
    """Words for an alarm no longer on the station's display (its condition is known by key only)."""
    for prefix in (TECHNICAL_PREFIX, ARRHYTHMIA_PREFIX):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    return key.replace("_", " ").strip().capitalize()




class InteropService:
    def __init__(
        self,
        station: Station,
        outbox: OutboxQueue,
        settings: InteropSettings,
        identity: Identity,
        status_path: Path | None = None,
        config_path: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.station = station
        self._outbox = outbox
        self.settings = settings
        self.identity = identity
        self._status_path = status_path
        self._config_path = config_path
        self._clock = clock
        self._run_id = f"{int(clock() * 1000):x}"
        self._seq = 0
        self._alarms = station.alarms.subscribe()
        self._requests: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._unsent: list[OutboxMessage] = []  # built but not yet in the outbox (the record was busy)
        self._due: dict[str, float] = {}  # bed -> when its next numerics report is due
        self._due_lock = threading.Lock()
        self._links: dict[str, Link] = {}
        self._server: AdtServer | None = None
        self._problem = ""
        self._alarm_on = False
        self._last_status = 0.0
        self._last_purge = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # bumped when an inbound ADT changed the ward, for the window to refresh its tiles
        self.ward_version = 0
        self.last_result = ""  # what the last admin request did, for the dialog

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> None:
        self.station.ward_listeners.append(self._on_ward_change)
        self._open_links(self.settings)
        self._thread = threading.Thread(target=self._run, name="interop-producer", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10.0)
            self._thread = None
        if self._on_ward_change in self.station.ward_listeners:
            self.station.ward_listeners.remove(self._on_ward_change)
        self.station.alarms.unsubscribe(self._alarms)
        self._close_links()
        self._write_status()

    # -- requests from the dialog (any thread; carried out on the producer thread) --------------------
    def request_settings(self, settings: InteropSettings, save: bool) -> None:
        def apply() -> None:
            self._close_links()
            self.settings = settings
            self._open_links(settings)
            saved = ""
            if save and self._config_path is not None:
                try:
                    save_settings(self._config_path, settings)
                    saved = f"; saved to {self._config_path}"
                except OSError as exc:
                    saved = f"; NOT saved to {self._config_path}: {exc.strerror or exc}"
            self.last_result = f"interface settings applied{saved}"
            log.info("%s", self.last_result)

        self._requests.put(apply)

    def request_requeue(self) -> None:
        def requeue() -> None:
            count = self._outbox.requeue_refused()
            self.last_result = f"{count} refused message(s) queued again"
            log.info("%s", self.last_result)
            for link in self._links.values():
                link.wake()

        self._requests.put(requeue)

    # -- what the front end and status command read ---------------------------------------------------
    def status(self) -> InteropStatus:
        return InteropStatus(
            self._clock(),
            tuple(link.status for link in list(self._links.values())),
            self._server.status if self._server is not None else None,
            self._problem,
        )

    # -- links ----------------------------------------------------------------------------------------
    def _open_links(self, settings: InteropSettings) -> None:
        problems: list[str] = []
        tls = None
        if settings.tls_ca_file is not None:
            try:
                tls = client_tls(
                    str(settings.tls_ca_file),
                    str(settings.tls_cert_file) if settings.tls_cert_file else None,
                    str(settings.tls_key_file) if settings.tls_key_file else None,
                )
            except (OSError, ValueError) as exc:
                problems.append(f"TLS files cannot be used: {exc}")
        targets = {HL7: settings.hl7_out, ALARMS: settings.alarm_target}
        for name, target in targets.items():
            if target is None or (problems and settings.tls_ca_file is not None):
                continue
            host, port = split_host_port(target)
            self._links[name] = Link(
                name, MllpTransport(host, port, tls), self._outbox, settings.ack_timeout_s
            )
        if settings.fhir_out is not None:
            fhir_tls = client_tls(str(settings.tls_ca_file)) if tls is not None else None
            transport = FhirTransport(settings.fhir_out, fhir_tls)
            self._links[FHIR] = Link(FHIR, transport, self._outbox, settings.ack_timeout_s)
        for link in self._links.values():
            link.start()
        if settings.hl7_in_port is not None:
            try:
                server_ctx = None
                if settings.tls_cert_file is not None:
                    server_ctx = server_tls(
                        str(settings.tls_cert_file),
                        str(settings.tls_key_file) if settings.tls_key_file else None,
                        str(settings.tls_ca_file) if settings.tls_ca_file else None,
                    )
                self._server = AdtServer(
                    self.station,
                    self._outbox,
                    self.identity,
                    settings.hl7_in_port,
                    tls=server_ctx,
                    on_change=self._ward_changed,
                )
                self._server.start()
            except (OSError, ValueError) as exc:
                problems.append(f"ADT listener on port {settings.hl7_in_port} cannot start: {exc}")
        self._problem = "; ".join(problems)
        if self._problem:
            log.error("interfaces: %s", self._problem)

    def _close_links(self) -> None:
        for link in self._links.values():
            link.stop()
        self._links = {}
        if self._server is not None:
            self._server.close()
            self._server = None

    def _ward_changed(self) -> None:
        self.ward_version += 1

    def _on_ward_change(self, change: WardChange) -> None:
        if change.kind == "admit":
            with self._due_lock:
                self._due[change.bed_id] = 0.0  # PCD-01 also on admission

    # -- the producer thread --------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.wait(PASS_S):
            try:
                self.produce_once()
            except Exception:
                log.exception("interop producer pass failed")

    def produce_once(self) -> None:
        while True:
            try:
                request = self._requests.get_nowait()
            except queue.Empty:
                break
            try:
                request()
            except Exception as exc:
                log.exception("interop request failed")
                self.last_result = f"failed: {type(exc).__name__}"
        now = self._clock()
        built = [*self._alarm_messages(), *self._numerics_messages(now)]
        self._unsent.extend(built)
        if self._unsent:
            try:
                self._outbox.enqueue(self._unsent)
                self._unsent = []
            except Exception:  # kept in memory and tried again next pass: nothing is dropped
                log.exception("interop outbox not writable; %d message(s) held", len(self._unsent))
            for link in self._links.values():
                link.wake()
        self._check_links(now)
        if now - self._last_status >= STATUS_EVERY_S:
            self._last_status = now
            self._write_status()
        if now - self._last_purge >= PURGE_EVERY_S:
            self._last_purge = now
            self._outbox.purge_sent(now - KEEP_SENT_S)

    def _control_id(self) -> str:
        self._seq += 1
        return f"WW{self._run_id}-{self._seq}"

    def _alarm_messages(self) -> list[OutboxMessage]:
        out: list[OutboxMessage] = []
        while True:
            try:
                event = self._alarms.get_nowait()
            except queue.Empty:
                return out
            if ALARMS not in self._links and self.settings.alarm_target is None:
                continue  # no alarm manager configured
            report = self._alarm_report(event)
            if report is None:
                continue
            control = self._control_id()
            try:
                text = hl7_messages.pcd04(report, self.identity, control).to_er7()
            except Exception as exc:  # the type only: a builder's message may quote the patient's data
                log.error("PCD-04 for a %s alarm could not be built (%s)", report.action, type(exc).__name__)
                continue
            out.append(OutboxMessage(ALARMS, control, "ORU^R40", report.bed_id, text))

    def _alarm_report(self, event: AlarmEvent) -> AlarmReport | None:
        if event.alarm_id is None or event.priority is None or event.action not in SENT_ACTIONS:
            return None
        snapshot = self.station.alarms.snapshot
        alarm: Alarm | None = next(
            (a for a in (*snapshot.alarms, *snapshot.held_back) if a.alarm_id == event.alarm_id), None
        )
        rule = self.station.alarms.settings_for(event.bed).rule(event.key)
        label, patient = event.bed, None
        try:
            bed = self.station.bed(event.bed)
            label, patient = bed.label, bed.patient
        except Exception:
            label = "Station" if event.bed == "station" else event.bed
        return AlarmReport(
            bed_id=event.bed,
            bed_label=label,
            patient=patient,
            time=event.time,
            alarm_ref=f"{self._run_id}-{event.bed}-{event.alarm_id}",
            key=event.key,
            text=alarm.message if alarm is not None else alarm_text(event.key),
            category=alarm.category if alarm is not None else category_of(event.key),
            priority=event.priority,
            action=event.action,
            source=rule.code if rule is not None else None,
        )

    def bed_report(self, bed_id: str, now: float) -> BedReport | None:
        bed = self.station.bed(bed_id)
        streams = self.station.hub.streams(bed_id)
        if bed.patient is None or streams is None:
            return None
        settings = self.station.alarms.settings_for(bed_id)
        limits: dict[MdcCode, tuple[float | None, float | None]] = {}
        for rule in settings.limits:
            if rule.enabled:
                low, high = limits.get(rule.code, (None, None))
                limits[rule.code] = (
                    rule.low if rule.low is not None else low,
                    rule.high if rule.high is not None else high,
                )
        numerics = []
        for code, obs in list(streams.numerics.items()):
            if not reported(code) or obs.validity.value != "valid":
                continue
            info_age = now - obs.time
            if info_age > max(self.settings.numerics_interval_s, 300.0) * 2:
                continue  # a value long gone (sensor off) is not reported as current
            low, high = limits.get(code, (None, None))
            numerics.append(Numeric(code, obs.value, obs.unit, obs.time, low, high))
        return BedReport(bed_id, bed.label, bed.patient, now, tuple(numerics))

    def _numerics_messages(self, now: float) -> list[OutboxMessage]:
        wanted = HL7 in self._links or FHIR in self._links
        out: list[OutboxMessage] = []
        for bed in list(self.station.beds):
            if bed.patient is None:
                continue
            with self._due_lock:
                due = self._due.get(bed.bed_id)
                if due is None or due <= now:
                    self._due[bed.bed_id] = now + self.settings.numerics_interval_s
            if not wanted or (due is not None and due > now):
                continue
            report = self.bed_report(bed.bed_id, now)
            if report is None or not report.numerics:
                with self._due_lock:  # admitted before its monitor sent anything: look again soon
                    self._due[bed.bed_id] = min(self._due[bed.bed_id], now + NO_DATA_RETRY_S)
                continue
            try:
                if HL7 in self._links:
                    control = self._control_id()
                    text = hl7_messages.pcd01(report, self.identity, control).to_er7()
                    out.append(OutboxMessage(HL7, control, "ORU^R01", bed.bed_id, text))
                if FHIR in self._links:
                    control = self._control_id()
                    text = fhir_build.bundle_json([report], self.identity, control)
                    out.append(OutboxMessage(FHIR, control, "Bundle", bed.bed_id, text))
            except Exception as exc:  # the type only: a builder's message may quote the patient's data
                log.error("numerics report of %s could not be built (%s)", bed.bed_id, type(exc).__name__)
        return out

    # -- alarms and status ------------------------------------------------------------------------------
    def _check_links(self, now: float) -> None:
        limit = self.settings.link_down_alarm_s
        down = [
            s
            for s in (link.status for link in self._links.values())
            if s.down_since is not None and now - s.down_since >= limit
        ]
        problem = bool(self._problem)
        active = bool(down) or problem
        if active != self._alarm_on:
            self._alarm_on = active
            detail = "; ".join(_down_text(s) for s in down) if down else self._problem
            self.station.station_condition(TechnicalKind.INTERFACE_DOWN, active, detail)
            log.warning("interface alarm %s: %s", "on" if active else "off", detail)

    def _write_status(self) -> None:
        if self._status_path is not None:
            write_status_file(self._status_path, self.status().to_json(), "interop")


def _down_text(status: LinkStatus) -> str:
    since = time.strftime("%H:%M", time.localtime(status.down_since or 0.0))
    return f"{status.name} link to {status.target} down since {since}: {status.pending} waiting"
