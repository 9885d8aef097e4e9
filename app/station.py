"""Composition root: the ward's beds, their sources, the hub and the supervisor, wired together.

Every change of the ward (admit, move, discharge, source assignment) goes through here. The front end
calls it from the GUI thread; nothing here blocks for long (sources load their data on their own threads).
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from wardwatch.app.alarms.engine import AlarmEngine, Analyser
from wardwatch.app.alarms.findings import Finding
from wardwatch.app.alarms.news2_watch import News2Watch
from wardwatch.app.alarms.settings import AlarmSettings
from wardwatch.app.clock import Clock
from wardwatch.app.domain import (
    STATION_BED,
    Bed,
    DeviceStatus,
    LinkState,
    Patient,
    TechnicalEvent,
    TechnicalKind,
)
from wardwatch.app.fleet.bed_devices import BedDevices
from wardwatch.app.fleet.rules import FleetRules
from wardwatch.app.hub import StreamHub
from wardwatch.app.record_queries import RecordQueries
from wardwatch.app.sources import NearbyDevice, SourceContext, bluetooth_scan, make_source
from wardwatch.app.supervisor import Supervisor
from wardwatch.devices.base import SharedResources, SharedRunner, Source, SourceError

if TYPE_CHECKING:  # the analysis stack is loaded only if it can be (see make_analyser)
    from wardwatch.app.alarms.analysis_worker import AnalysisWorker

log = logging.getLogger(__name__)

SourceMaker = Callable[[str, str, SourceContext], Source]


def make_analyser(
    hub: StreamHub, settings_for: Callable[[str], AlarmSettings]
) -> tuple[AnalysisWorker | None, Analyser]:
    """The live arrhythmia analysis, in a worker process. If it cannot be loaded the station still
    runs, and every monitored bed shows "Arrhythmia analysis off": never a silent absence."""
    try:
        from wardwatch.app.alarms.analysis_worker import AnalysisWorker
        from wardwatch.app.alarms.bed_analyser import BedAnalyser
    except ImportError as exc:
        log.error("arrhythmia analysis unavailable: %s", exc)
        reason = f"not installed ({exc.name})"

        def unavailable(bed: str, now: float) -> list[Finding]:
            raise RuntimeError(reason)

        return None, unavailable
    worker = AnalysisWorker()
    return worker, BedAnalyser(hub, settings_for, worker)


class WardError(Exception):
    """A ward action that cannot be done (bed occupied, unknown bed); the message is for the user."""


_Action = TypeVar("_Action", bound=Callable[..., Any])


def _one_ward_action_at_a_time(method: _Action) -> _Action:
    """Ward actions come from the GUI thread and from inbound HL7 ADT (the interface's thread): each one
    reads, checks and replaces beds, so two at once could admit two patients to one bed."""

    @functools.wraps(method)
    def serialised(self: Station, *args: Any, **kwargs: Any) -> Any:
        with self.ward_lock:
            return method(self, *args, **kwargs)

    return serialised  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class BedSetup:
    label: str
    source: str | None
    devices: tuple[str, ...] = ()  # further devices at the bed (pumps, glucose sensors)


@dataclass(frozen=True, slots=True)
class WardChange:
    """Something a person did to the ward, for the record: admit, discharge (a move is both), source
    (a device assigned to a bed, or taken away when `source` is None)."""

    kind: str
    bed_id: str
    time: float
    patient: Patient | None = None
    source: str | None = None


@dataclass(slots=True)
class StationSetup:
    name: str
    beds: Sequence[BedSetup]
    seed: int = 0
    source_options: dict[str, object] = field(default_factory=dict)


class Station:
    def __init__(self, setup: StationSetup, clock: Clock, source_maker: SourceMaker = make_source) -> None:
        self.name = setup.name
        self.clock = clock
        self.hub = StreamHub()
        self._seed = setup.seed
        self._options = dict(setup.source_options)
        self._make = source_maker
        self.beds: list[Bed] = [
            Bed(bed_id=f"bed{i + 1:02d}", label=b.label, source_spec=b.source, devices=tuple(b.devices))
            for i, b in enumerate(setup.beds)
        ]
        for bed in self.beds:
            self.hub.add_bed(bed.bed_id)
        self.sources: dict[str, Source] = {}
        self.supervisor = Supervisor(self.hub, clock, lambda: [b.bed_id for b in self.beds])
        # A pass a little more often than the display paints, so every frame has new samples to sweep.
        self.runner = SharedRunner(clock, interval_s=0.025, name="simulated-beds")
        self.shared = SharedResources()
        self.news2 = News2Watch(self.hub, lambda bed: self.alarms.settings_for(bed))
        self._analysis, analyser = make_analyser(self.hub, lambda bed: self.alarms.settings_for(bed))
        self.alarms = AlarmEngine(self.hub, clock, self._monitored_beds, analyser=analyser, extra=self.news2)
        # pumps and glucose sensors beside the monitors, and their alarms (app/fleet)
        self.bed_devices = BedDevices(self.hub, clock, source_maker)
        self.alarms.add_rules(FleetRules(self.hub, self.bed_devices, self.alarms.settings_for))
        self._running = False
        self.ward_listeners: list[Callable[[WardChange], None]] = []
        self.ward_lock = threading.RLock()
        # what the status bar says about the encrypted record (set by whoever attaches one)
        self.recording = "off"
        self.queries = RecordQueries()
        # services of feature modules beside the station (interop links, sessions, …) by name, for the
        # front end to find; filled by wardwatch.app.extensions.start_services
        self.services: dict[str, object] = {}

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._running = True
        for bed in self.beds:
            if bed.source_spec:
                self._start_source(bed, bed.source_spec)
        self.bed_devices.start(self.beds, self._source_context)
        self.supervisor.start()
        self.alarms.start()

    def stop(self) -> None:
        self._running = False
        self.alarms.stop()
        if self._analysis is not None:
            self._analysis.shutdown()
        self.supervisor.stop()
        for source in list(self.sources.values()):
            source.stop()
        self.sources.clear()
        self.bed_devices.stop()
        self.runner.stop()
        self.shared.close()
        self.queries.shutdown()

    # -- beds ----------------------------------------------------------------------------------------
    def _monitored_beds(self) -> list[str]:
        """Beds with a device (an empty bed position raises no alarms: it shows "no device"), and the
        station itself while it has a technical condition of its own (recording stopped)."""
        beds = [b.bed_id for b in self.beds if b.source_spec or b.devices]
        station = self.hub.streams(STATION_BED)
        if station is not None and station.conditions:
            beds.append(STATION_BED)
        return beds

    def station_condition(self, kind: TechnicalKind, active: bool, detail: str = "") -> None:
        """A technical condition of the station itself, alarmed like a bed's (any thread)."""
        self.hub.push_event(TechnicalEvent(STATION_BED, kind, active, self.clock.now(), detail))

    def _tell(self, change: WardChange) -> None:
        for listener in list(self.ward_listeners):
            try:
                listener(change)
            except Exception:
                log.exception("ward change listener failed")

    def bed(self, bed_id: str) -> Bed:
        for b in self.beds:
            if b.bed_id == bed_id:
                return b
        raise WardError(f"there is no bed {bed_id!r}")

    def _index(self, bed_id: str) -> int:
        return self.beds.index(self.bed(bed_id))

    @_one_ward_action_at_a_time
    def admit(self, bed_id: str, patient: Patient) -> None:
        bed = self.bed(bed_id)
        if bed.patient is not None:
            raise WardError(f"{bed.label} already has a patient; discharge or move them first")
        if any(b.patient is not None and b.patient.mrn == patient.mrn for b in self.beds):
            raise WardError("a patient with this MRN is already admitted to another bed")
        self.beds[self._index(bed_id)] = replace(bed, patient=patient)
        log.info("patient admitted to %s", bed.label)  # no PHI in logs
        self._tell(WardChange("admit", bed_id, self.clock.now(), patient=patient))

    @_one_ward_action_at_a_time
    def discharge(self, bed_id: str) -> None:
        bed = self.bed(bed_id)
        if bed.patient is None:
            raise WardError(f"{bed.label} has no patient to discharge")
        self.beds[self._index(bed_id)] = replace(bed, patient=None, notes=[])
        self.alarms.forget_bed(bed_id)  # the next patient starts with no alarms and default limits
        self.news2.forget(bed_id)
        log.info("patient discharged from %s", bed.label)
        self._tell(WardChange("discharge", bed_id, self.clock.now()))

    @_one_ward_action_at_a_time
    def move(self, from_bed: str, to_bed: str) -> None:
        src, dst = self.bed(from_bed), self.bed(to_bed)
        if src.patient is None:
            raise WardError(f"{src.label} has no patient to move")
        if dst.patient is not None:
            raise WardError(f"{dst.label} is occupied")
        self.beds[self._index(to_bed)] = replace(dst, patient=src.patient, notes=list(src.notes))
        self.beds[self._index(from_bed)] = replace(src, patient=None, notes=[])
        log.info("patient moved from %s to %s", src.label, dst.label)
        now = self.clock.now()
        self._tell(WardChange("discharge", from_bed, now))
        self._tell(WardChange("admit", to_bed, now, patient=src.patient))

    @_one_ward_action_at_a_time
    def update_patient(self, bed_id: str, patient: Patient) -> None:
        """New details of the bed's patient (an HL7 A08): the admission, its alarms and limits go on."""
        bed = self.bed(bed_id)
        if bed.patient is None:
            raise WardError(f"{bed.label} has no patient to update")
        self.beds[self._index(bed_id)] = replace(bed, patient=patient)
        log.info("patient details updated in %s", bed.label)

    # -- sources -------------------------------------------------------------------------------------
    @_one_ward_action_at_a_time
    def assign_source(self, bed_id: str, spec: str | None) -> None:
        """Replace the bed's source (None = no device). A source that cannot be made is shown on the bed."""
        bed = self.bed(bed_id)
        old = self.sources.pop(bed_id, None)
        if old is not None:
            old.stop()
        self.hub.clear_bed(bed_id)
        self.beds[self._index(bed_id)] = replace(bed, source_spec=spec)
        if spec and self._running:
            self._start_source(self.bed(bed_id), spec)
        self._tell(WardChange("source", bed_id, self.clock.now(), source=spec))

    def scan_bluetooth(self, seconds: float = 5.0) -> concurrent.futures.Future[list[NearbyDevice]]:
        """Bluetooth devices heard within `seconds`, to bind a patch to a bed (runs off the GUI thread)."""
        return bluetooth_scan(self.shared, seconds)

    def _source_context(self, bed: Bed) -> SourceContext:
        return SourceContext(
            clock=self.clock,
            seed=self._seed,
            bed_index=self.beds.index(bed),
            options=self._options,
            runner=self.runner,  # light sources share one thread instead of one thread each
            shared=self.shared,
        )

    def _start_source(self, bed: Bed, spec: str) -> None:
        ctx = self._source_context(bed)
        try:
            source = self._make(spec, bed.bed_id, ctx)
            source.start(self.hub)
        except SourceError as exc:
            self._show_failure(bed, spec, str(exc))
            return
        except Exception as exc:  # a broken plug-in must not take the ward down
            log.exception("source %s for %s could not start", spec.partition(":")[0], bed.label)
            self._show_failure(bed, spec, type(exc).__name__)
            return
        self.sources[bed.bed_id] = source

    def _show_failure(self, bed: Bed, spec: str, reason: str) -> None:
        log.warning("source for %s failed: %s", bed.label, reason)
        kind = spec.partition(":")[0]
        self.hub.set_status(bed.bed_id, DeviceStatus(spec, kind, LinkState.FAILED, reason))
        self.hub.push_event(
            TechnicalEvent(bed.bed_id, TechnicalKind.SOURCE_FAILED, True, self.clock.now(), reason)
        )
