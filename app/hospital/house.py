"""The viewer's model of the house: every remote station and bed it hears about, without Qt.

`HospitalHouse` is fed with decoded messages (`payloads.py`, `waves_codec.py`), one method per kind,
from the MQTT network thread; the GUI paints from `snapshot()` on its timer. Per station it keeps the
status and when it was last heard; per bed the latest info, numerics, alarm state, NEWS2, risk and
technical state. Numerics and wave blocks also go into a local `StreamHub` under the bed's local id
"<site>/<ward>/<bed>", so the station's own `BedTile` paints a remote bed as it paints a local one.

Alarms: each `alarms` message carries the bed's complete alarm list after its event, so it replaces the
bed's alarm state; an event id already applied is dropped (QoS 1 redelivery, backlog replays), and an
older event of the same run never overwrites a newer state (it still counts as received); an event of
another run (the station restarted) replaces the state whatever its run-id says.

A station is lost when its status says "offline" or nothing came from it for `silence_s` (6 s: with the
once-a-second check, a viewer knows within 10 s); every bed of it then carries a viewer-side technical
alarm `TechnicalKind.STATION_LOST`, "No data from station X since 12:03", until it is heard again.

Thread-safe: one lock around the state; readers get immutable snapshots.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from wardwatch.app.alarms.model import (
    SHOWN_STATES,
    Alarm,
    AlarmSnapshot,
    Category,
    Priority,
    State,
    sort_key,
)
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import (
    TECHNICAL_TEXT,
    DeviceStatus,
    LinkState,
    Observation,
    TechnicalEvent,
    TechnicalKind,
    WaveformBlock,
)
from wardwatch.app.hospital.payloads import (
    AlarmState,
    BedAlarms,
    BedInfo,
    News2,
    Numerics,
    PatientInfo,
    Risk,
    StationStatus,
    Technical,
)
from wardwatch.app.hospital.waves_codec import Waves
from wardwatch.app.hub import StreamHub
from wardwatch.app.presentation import minute_clock_text

log = logging.getLogger(__name__)

SILENCE_S = 6.0  # nothing heard for this long: the station is lost (its heartbeat comes every 2 s)
SEEN_IDS_KEPT = 50_000  # alarm event ids remembered per station for de-duplication
STATION_LOST_KEY = f"technical:{TechnicalKind.STATION_LOST.value}"
STATION_LOST_PRIORITY = Priority.MEDIUM  # as the station's own "disconnected" technical alarm
NEWS2_URGENT = 7  # NEWS2 high band: an urgent clinical response
NEWS2_RESPONSE = 5  # NEWS2 medium band: an urgent ward-based response
KIND_TO_STATE = {  # the `link` word of a technical message; any other word is an unknown link
    "connected": LinkState.CONNECTED,
    "starting": LinkState.STARTING,
    "disconnected": LinkState.DISCONNECTED,
    "lost": LinkState.DISCONNECTED,
    "failed": LinkState.FAILED,
    "stopped": LinkState.STOPPED,
}


def bed_key(site: str, ward: str, bed: str) -> str:
    """The local id of a remote bed in the viewer's hub and snapshots: "<site>/<ward>/<bed>"."""
    return f"{site}/{ward}/{bed}"


def station_key(site: str, ward: str) -> str:
    """A station is known by what it publishes as: "<site>/<ward>"."""
    return f"{site}/{ward}"


def lost_text(station: str, since: float) -> str:
    """The viewer-side technical alarm's words: "No data from station ICU since 12:03"."""
    return f"{TECHNICAL_TEXT[TechnicalKind.STATION_LOST]} {station} since {minute_clock_text(since)}"


def event_order(event_id: str) -> tuple[int, int] | None:
    """(run, seq) of an event id "<site>/<ward>:<run-id hex>:<seq>", seq comparable within one run; None
    when the id does not have that shape (it is then applied in arrival order)."""
    parts = event_id.rsplit(":", 2)
    if len(parts) != 3:
        return None
    try:
        return int(parts[1], 16), int(parts[2])
    except ValueError:
        return None


# -- what a snapshot holds ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RemoteNews2:
    score: int | None
    band: str | None  # "low" | "low-medium" | "medium" | "high"
    complete: bool
    detail: str
    t: float
    since: float | None  # when the score last reached its response class (≥ 5, ≥ 7): "older first"

    @property
    def text(self) -> str:
        """As the tile writes it: "NEWS2 5", or "NEWS2 5+" while a parameter is missing."""
        if self.score is None:
            return "NEWS2 ?"
        return f"NEWS2 {self.score}{'' if self.complete else '+'}"


@dataclass(frozen=True, slots=True)
class RemoteRisk:
    risk: float | None
    threshold: float | None
    above: bool
    factors: tuple[str, ...]
    t: float
    since: float | None  # when it went above its threshold

    @property
    def percent_text(self) -> str:
        if self.risk is None:
            return "?"
        pct = self.risk * 100
        return f"{pct:.1f} %" if pct < 10 else f"{pct:.0f} %"


@dataclass(frozen=True, slots=True)
class RemotePatient:
    """Who is in a remote bed (personal health information: masked in repr, never logged)."""

    name: str
    mrn: str
    age: int | None
    sex: str | None

    def __repr__(self) -> str:
        return "RemotePatient(<masked>)"

    @property
    def text(self) -> str:
        extra = " ".join(p for p in (f"{self.age}" if self.age is not None else "", self.sex or "") if p)
        return f"{self.name} · {extra}" if extra else self.name


@dataclass(frozen=True, slots=True)
class RemoteBed:
    key: str  # "<site>/<ward>/<bed>", the bed's id in the viewer's hub
    site: str
    ward: str
    bed: str
    station: str  # the owning station's name
    label: str  # "Bed 3"
    patient: RemotePatient | None
    device: str | None
    alarms: tuple[Alarm, ...]  # shown ones, most urgent first (the STATION_LOST alarm included)
    held_back: tuple[Alarm, ...]
    news2: RemoteNews2 | None
    risk: RemoteRisk | None
    link: str | None  # the bed's device link as its station reports it
    conditions: tuple[str, ...]  # active technical conditions, in words
    last_heard: float | None  # house clock of the newest message about this bed
    station_lost: bool

    @property
    def link_state(self) -> LinkState | None:
        """The bedside device link as a LinkState; None when the station has not said (or said a word this
        viewer does not know)."""
        return KIND_TO_STATE.get(self.link) if self.link is not None else None

    @property
    def title(self) -> str:
        """What the hospital page's tile says: "<ward> · <bed label>"."""
        return f"{self.ward} · {self.label}"


@dataclass(frozen=True, slots=True)
class RemoteStation:
    key: str  # "<site>/<ward>"
    site: str
    ward: str
    name: str
    state: str  # "online" | "offline" | "unknown" (no status heard yet)
    beds: tuple[str, ...]  # bed ids, in the station's order
    version: str
    last_heard: float | None  # house clock of the newest message from it
    last_t: float | None  # the station's own clock in its newest message
    lost: bool
    lost_since: float | None  # what "no data since" says (the station's last time, else when last heard)

    def link_age(self, now: float) -> float | None:
        return None if self.last_heard is None else max(0.0, now - self.last_heard)


@dataclass(frozen=True, slots=True)
class HouseSnapshot:
    """The house at one instant; `version` grows with every change. `alarms` is an `AlarmSnapshot` of
    every remote bed (bed = local key), so the station's alarm bar and sound logic can show it."""

    version: int
    time: float
    stations: tuple[RemoteStation, ...]
    beds: tuple[RemoteBed, ...]
    alarms: AlarmSnapshot

    def bed(self, key: str) -> RemoteBed | None:
        return next((b for b in self.beds if b.key == key), None)

    def station(self, key: str) -> RemoteStation | None:
        return next((s for s in self.stations if s.key == key), None)

    def beds_of(self, station: str) -> tuple[RemoteBed, ...]:
        return tuple(b for b in self.beds if station_key(b.site, b.ward) == station)


EMPTY_HOUSE = HouseSnapshot(0, 0.0, (), (), AlarmSnapshot(0, 0.0, (), (), None))


@dataclass(frozen=True, slots=True)
class AppliedAlarms:
    """Told to listeners each time an `alarms` event is applied for the first time (benches, tests)."""

    bed: str  # local key
    event_id: str
    action: str | None  # the event's action, None for a state-at-connect message
    received: float  # house clock


@dataclass(slots=True)
class HouseCounters:
    messages: int = 0
    alarm_events: int = 0  # distinct alarm event ids received
    duplicates: int = 0  # alarm event ids already applied (dropped)
    out_of_order: int = 0  # older events that arrived after a newer state (counted, not applied)
    unknown_codes: int = 0  # numeric or wave codes this viewer does not know (skipped)
    rejected: int = 0  # messages the viewer refused (counted by the viewer service)


# -- mutable per-station and per-bed state (under the house lock) -------------------------------------------
@dataclass(slots=True)
class _Bed:
    site: str
    ward: str
    bed: str
    label: str = ""
    station: str = ""
    patient: RemotePatient | None = None
    device: str | None = None
    alarms: tuple[Alarm, ...] = ()
    alarm_order: tuple[int, int] | None = None
    news2: RemoteNews2 | None = None
    risk: RemoteRisk | None = None
    link: str | None = None
    conditions: dict[TechnicalKind, str] = field(default_factory=dict)
    other_conditions: tuple[str, ...] = ()
    last_heard: float | None = None


@dataclass(slots=True)
class _Station:
    site: str
    ward: str
    name: str = ""
    state: str = "unknown"
    beds: tuple[str, ...] = ()
    version: str = ""
    last_heard: float | None = None  # the newest live message: retained ones may be long stale
    last_t: float | None = None
    status_t: float | None = None  # the station time of the newest status applied
    watched_from: float = 0.0  # house clock when first heard of: silence counts from here until live
    lost_since: float | None = None  # set while lost
    lost_acknowledged: tuple[str, float] | None = None  # (user, when) someone silenced the lost alarm
    lost_id: int = 0
    seen: OrderedDict[str, None] = field(default_factory=OrderedDict)


class HospitalHouse:
    """The viewer's model. Feed it from the network thread (`on_*`), call `tick()` about once a second
    (the viewer service does), read `snapshot()` from anywhere.

    Public API:
    - `on_info`, `on_numerics`, `on_alarms`, `on_news2`, `on_risk`, `on_technical`, `on_waves`
      (site, ward, bed, decoded payload) and `on_status` (site, ward, status): apply one message;
      `retained=True` for the broker's stored copy (state, but no sign that the station lives).
      `on_alarms` returns False when the event id was already applied.
    - `tick(now=None) -> bool`: find stations gone silent (or back); True if anything changed.
    - `snapshot() -> HouseSnapshot`: immutable, versioned; `snapshot().alarms` is an AlarmSnapshot.
    - `acknowledge_lost(station_key, user)`: silence a STATION_LOST alarm here (it is the viewer's own).
    - `add_listener(fn)`: `fn(AppliedAlarms)` after each newly applied alarm event (on the feeding thread).
    - `seen_event_ids(station_key) -> frozenset[str]`: every alarm event id received from a station.
    - `counters`: HouseCounters.
    """

    def __init__(
        self,
        hub: StreamHub | None = None,
        clock: Callable[[], float] = time.time,
        silence_s: float = SILENCE_S,
    ) -> None:
        self.hub = hub if hub is not None else StreamHub()
        self.clock = clock
        self.silence_s = silence_s
        self.counters = HouseCounters()
        self._lock = threading.RLock()
        self._stations: dict[str, _Station] = {}
        self._beds: dict[str, _Bed] = {}
        self._version = 0
        self._snapshot: HouseSnapshot = EMPTY_HOUSE
        self._listeners: list[Callable[[AppliedAlarms], None]] = []
        self._lost_ids = 0

    # -- helpers (lock held) ------------------------------------------------------------------------------
    def _changed(self) -> None:
        self._version += 1

    def _station(self, site: str, ward: str) -> _Station:
        key = station_key(site, ward)
        st = self._stations.get(key)
        if st is None:
            st = self._stations[key] = _Station(site, ward, name=key, watched_from=self.clock())
        return st

    def _bed(self, site: str, ward: str, bed: str) -> _Bed:
        key = bed_key(site, ward, bed)
        b = self._beds.get(key)
        if b is None:
            b = self._beds[key] = _Bed(site, ward, bed, label=bed)
            st = self._station(site, ward)
            b.station = st.name
            if bed not in st.beds:
                st.beds = (*st.beds, bed)
        return b

    def _heard(
        self,
        site: str,
        ward: str,
        station_t: float | None,
        bed: _Bed | None = None,
        *,
        retained: bool = False,
    ) -> None:
        st = self._station(site, ward)
        if station_t is not None:
            st.last_t = station_t if st.last_t is None else max(st.last_t, station_t)
        self.counters.messages += 1
        if retained:
            return  # the broker's stored copy, maybe from a station long dead: no sign of life
        now = self.clock()
        st.last_heard = now
        if bed is not None:
            bed.last_heard = now
        if st.lost_since is not None and st.state != "offline":
            self._found(st)

    def _found(self, st: _Station) -> None:
        st.lost_since = None
        st.lost_acknowledged = None
        self._changed()

    # -- feeding (network thread) -----------------------------------------------------------------------
    def on_status(self, site: str, ward: str, status: StationStatus, *, retained: bool = False) -> None:
        with self._lock:
            st = self._station(site, ward)
            if status.state != "offline" and st.status_t is not None and status.t < st.status_t:
                # An older status (a retained or replayed copy) never overrides a newer one. "offline" is
                # always believed: the last will carries the station's time at connect, older than its
                # heartbeats, and a wrong "offline" errs on the safe side (heard again within 2 s).
                self._heard(site, ward, status.t, retained=retained)
                return
            st.status_t = status.t if st.status_t is None else max(st.status_t, status.t)
            st.name = status.station or st.name
            st.state = status.state
            st.version = status.version
            known = [b for b in st.beds if b not in status.beds]
            st.beds = (*status.beds, *known)
            for b in status.beds:
                self._bed(site, ward, b).station = st.name
            for b in self._beds.values():
                if (b.site, b.ward) == (site, ward):
                    b.station = st.name
            self._heard(site, ward, status.t, retained=retained)
            if status.state == "offline" and st.lost_since is None:
                self._lose(st, self.clock())
            self._changed()

    def on_info(self, site: str, ward: str, bed: str, info: BedInfo, *, retained: bool = False) -> None:
        with self._lock:
            b = self._bed(site, ward, bed)
            st = self._station(site, ward)
            if info.station and st.state == "unknown":
                st.name = info.station
            b.station = st.name
            b.label = info.label or bed
            b.patient = _patient(info.patient)
            b.device = info.device
            self._heard(site, ward, info.t, b, retained=retained)
            self._changed()
        if info.device is not None:
            self._set_link(b, st.name)

    def on_numerics(
        self, site: str, ward: str, bed: str, numerics: Numerics, *, retained: bool = False
    ) -> None:
        key = bed_key(site, ward, bed)
        with self._lock:
            b = self._bed(site, ward, bed)
            self._heard(site, ward, numerics.t, b, retained=retained)
            self._changed()
        for v in numerics.values:
            try:
                code = MdcCode(v.code)
            except ValueError:
                self.counters.unknown_codes += 1
                continue
            latest = self.hub.latest(key, code)
            if latest is not None and latest.time >= v.t:
                continue  # the retained copy of a value already shown, or a repeat
            self.hub.push_observation(Observation(key, code, v.value, v.unit, v.t, source_label=v.label))

    def on_alarms(self, site: str, ward: str, bed: str, alarms: BedAlarms, *, retained: bool = False) -> bool:
        """Apply the bed's alarm state after one event; False if the event id was already applied."""
        key = bed_key(site, ward, bed)
        with self._lock:
            st = self._station(site, ward)
            b = self._bed(site, ward, bed)
            if alarms.id in st.seen:
                self.counters.duplicates += 1
                self._heard(site, ward, alarms.t, b, retained=retained)
                return False
            st.seen[alarms.id] = None
            while len(st.seen) > SEEN_IDS_KEPT:
                st.seen.popitem(last=False)
            self.counters.alarm_events += 1
            order = event_order(alarms.id)
            # Sequence numbers are comparable only within one run: a run-id is the station's wall clock
            # at start, which may have been set back, so a message of another run (a restart) is the
            # bed's newest state by arrival.
            newer = (
                order is None
                or b.alarm_order is None
                or order[0] != b.alarm_order[0]
                or order[1] > b.alarm_order[1]
            )
            if newer:
                b.alarm_order = order if order is not None else b.alarm_order
                b.alarms = tuple(_alarm(key, a) for a in alarms.active)
            else:
                self.counters.out_of_order += 1
            self._heard(site, ward, alarms.t, b, retained=retained)
            self._changed()
            listeners = list(self._listeners)
        applied = AppliedAlarms(key, alarms.id, alarms.event.action if alarms.event else None, self.clock())
        for listener in listeners:
            try:
                listener(applied)
            except Exception:
                log.exception("an alarm listener failed")
        return True

    def on_news2(self, site: str, ward: str, bed: str, news2: News2, *, retained: bool = False) -> None:
        with self._lock:
            b = self._bed(site, ward, bed)
            old = b.news2
            since: float | None = None
            level = _news2_level(news2.score)
            if level:
                same = old is not None and _news2_level(old.score) == level
                since = old.since if same and old.since is not None else news2.t
            b.news2 = RemoteNews2(news2.score, news2.band, news2.complete, news2.detail, news2.t, since)
            self._heard(site, ward, news2.t, b, retained=retained)
            self._changed()

    def on_risk(self, site: str, ward: str, bed: str, risk: Risk, *, retained: bool = False) -> None:
        with self._lock:
            b = self._bed(site, ward, bed)
            old = b.risk
            since = None
            if risk.above:
                since = old.since if old is not None and old.above and old.since is not None else risk.t
            b.risk = RemoteRisk(risk.risk, risk.threshold, risk.above, risk.factors, risk.t, since)
            self._heard(site, ward, risk.t, b, retained=retained)
            self._changed()

    def on_technical(
        self, site: str, ward: str, bed: str, technical: Technical, *, retained: bool = False
    ) -> None:
        key = bed_key(site, ward, bed)
        events: list[TechnicalEvent] = []
        with self._lock:
            b = self._bed(site, ward, bed)
            b.link = technical.link
            station = self._station(site, ward).name
            now_active: dict[TechnicalKind, str] = {}
            others: list[str] = []
            for c in technical.conditions:
                try:
                    kind = TechnicalKind(c.kind)
                except ValueError:
                    others.append(c.detail or c.kind)
                    continue
                now_active[kind] = c.detail
                if b.conditions.get(kind) != c.detail:
                    events.append(TechnicalEvent(key, kind, True, c.since, c.detail))
            for kind in b.conditions.keys() - now_active.keys():
                events.append(TechnicalEvent(key, kind, False, technical.t))
            b.conditions = now_active
            b.other_conditions = tuple(others)
            self._heard(site, ward, technical.t, b, retained=retained)
            self._changed()
        if technical.link is not None:
            self._set_link(b, station)
        for event in events:  # the tile shows the bed's technical state from the hub, as a local bed's
            self.hub.push_event(event)

    def _set_link(self, b: _Bed, station: str) -> None:
        """The bed's device link into the hub, as the station's own tile has it: a lost bedside link shows
        on the remote tile too. Info alone (no technical message yet) means a device is there."""
        state = KIND_TO_STATE.get(b.link or "", LinkState.CONNECTED)
        device = b.device or "device"
        self.hub.set_status(
            bed_key(b.site, b.ward, b.bed), DeviceStatus(station, "mqtt", state, f"{device} via {station}")
        )

    def on_waves(self, site: str, ward: str, bed: str, waves: Waves) -> None:
        key = bed_key(site, ward, bed)
        with self._lock:
            b = self._bed(site, ward, bed)
            self._heard(site, ward, waves.t, b)
        for block in waves.blocks:
            try:
                code = MdcCode(block.code)
            except ValueError:
                self.counters.unknown_codes += 1
                continue
            self.hub.push_block(
                WaveformBlock(key, code, block.samples, block.fs, block.t0, block.unit or "", block.label)
            )

    # -- station loss ----------------------------------------------------------------------------------
    def _lose(self, st: _Station, now: float) -> None:
        st.lost_since = st.last_t if st.last_t is not None else (st.last_heard or now)
        st.lost_acknowledged = None
        self._lost_ids += 1
        st.lost_id = -self._lost_ids  # viewer-side alarms: negative ids never meet a station's
        log.warning("no data from station %s since %s", st.name, minute_clock_text(st.lost_since))

    def tick(self, now: float | None = None) -> bool:
        """Mark stations silent for `silence_s` as lost; True if any station changed."""
        now = self.clock() if now is None else now
        changed = False
        with self._lock:
            for st in self._stations.values():
                heard = st.last_heard if st.last_heard is not None else st.watched_from
                silent = now - heard > self.silence_s
                if st.lost_since is None and (silent or st.state == "offline"):
                    self._lose(st, now)
                    changed = True
            if changed:
                self._changed()
        return changed

    def acknowledge_lost(self, station: str, user: str) -> bool:
        """Silence the STATION_LOST alarms of one station on this viewer (they stay shown)."""
        with self._lock:
            st = self._stations.get(station)
            if st is None or st.lost_since is None or st.lost_acknowledged is not None:
                return False
            st.lost_acknowledged = (user, self.clock())
            self._changed()
            return True

    def _lost_alarm(self, st: _Station, key: str) -> Alarm:
        assert st.lost_since is not None
        ack = st.lost_acknowledged
        return Alarm(
            alarm_id=st.lost_id,
            bed=key,
            key=STATION_LOST_KEY,
            category=Category.TECHNICAL,
            priority=STATION_LOST_PRIORITY,
            message=lost_text(st.name, st.lost_since),
            condition_since=st.lost_since,
            raised_at=st.lost_since,
            state=State.ACTIVE if ack is None else State.ACKNOWLEDGED,
            acknowledged_by=None if ack is None else ack[0],
            acknowledged_at=None if ack is None else ack[1],
        )

    # -- reading ------------------------------------------------------------------------------------------
    def add_listener(self, listener: Callable[[AppliedAlarms], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def seen_event_ids(self, station: str) -> frozenset[str]:
        with self._lock:
            st = self._stations.get(station)
            return frozenset(st.seen) if st is not None else frozenset()

    @property
    def version(self) -> int:
        return self._version

    def snapshot(self) -> HouseSnapshot:
        """The house as it stands (rebuilt only when something changed since the last call)."""
        with self._lock:
            if self._snapshot.version == self._version and self._version:
                return self._snapshot
            now = self.clock()
            stations = tuple(self._station_view(st) for st in self._stations.values())
            beds: list[RemoteBed] = []
            for st in self._stations.values():
                for bed_id in st.beds:
                    b = self._beds.get(bed_key(st.site, st.ward, bed_id))
                    if b is not None:
                        beds.append(self._bed_view(st, b))
            shown = sorted((a for b in beds for a in b.alarms), key=sort_key)
            held = sorted((a for b in beds for a in b.held_back), key=lambda a: -a.raised_at)
            alarms = AlarmSnapshot(self._version, now, tuple(shown), tuple(held), None)
            self._snapshot = HouseSnapshot(self._version, now, stations, tuple(beds), alarms)
            return self._snapshot

    def _station_view(self, st: _Station) -> RemoteStation:
        return RemoteStation(
            key=station_key(st.site, st.ward),
            site=st.site,
            ward=st.ward,
            name=st.name,
            state=st.state,
            beds=st.beds,
            version=st.version,
            last_heard=st.last_heard,
            last_t=st.last_t,
            lost=st.lost_since is not None,
            lost_since=st.lost_since,
        )

    def _bed_view(self, st: _Station, b: _Bed) -> RemoteBed:
        key = bed_key(b.site, b.ward, b.bed)
        shown = [a for a in b.alarms if a.state in SHOWN_STATES]
        if st.lost_since is not None:
            shown.append(self._lost_alarm(st, key))
        words = [TECHNICAL_TEXT[k] + (f": {d}" if d else "") for k, d in b.conditions.items()]
        return RemoteBed(
            key=key,
            site=b.site,
            ward=b.ward,
            bed=b.bed,
            station=st.name,
            label=b.label,
            patient=b.patient,
            device=b.device,
            alarms=tuple(sorted(shown, key=sort_key)),
            held_back=tuple(a for a in b.alarms if a.state is State.HELD_BACK),
            news2=b.news2,
            risk=b.risk,
            link=b.link,
            conditions=(*words, *b.other_conditions),
            last_heard=b.last_heard,
            station_lost=st.lost_since is not None,
        )

    def bed_keys(self) -> Iterable[str]:
        with self._lock:
            return list(self._beds)


def _patient(p: PatientInfo | None) -> RemotePatient | None:
    return None if p is None else RemotePatient(p.name, p.mrn, p.age, p.sex)


def _news2_level(score: int | None) -> int:
    """0 below the response threshold, 1 for 5–6, 2 for 7 or more."""
    if score is None or score < NEWS2_RESPONSE:
        return 0
    return 2 if score >= NEWS2_URGENT else 1


def _alarm(bed: str, a: AlarmState) -> Alarm:
    """A remote alarm as the station's own alarm record (bed = the local key); unknown words are read
    as the most careful known ones rather than dropped."""
    try:
        category = Category(a.category)
    except ValueError:
        category = Category.PHYSIOLOGICAL
    try:
        state = State(a.state)
    except ValueError:
        state = State.ACTIVE
    try:
        priority = Priority.parse(a.priority)
    except ValueError:
        priority = Priority.HIGH
    return Alarm(
        alarm_id=a.alarm_id,
        bed=bed,
        key=a.key,
        category=category,
        priority=priority,
        message=a.message,
        condition_since=a.condition_since,
        raised_at=a.raised_at,
        state=state,
        escalated_at=a.escalated_at,
        acknowledged_by=a.acknowledged_by,
        acknowledged_at=a.acknowledged_at,
        reason=a.reason,
        audible=a.audible,
    )


def without_sound(snapshot: AlarmSnapshot, sound: str) -> AlarmSnapshot:
    """The alarm snapshot as the viewer's `[mqtt] sound` setting lets it sound: "all" unchanged, "high"
    only high-priority alarms audible, "none" nothing audible (still shown)."""
    if sound == "all":
        return snapshot
    keep = Priority.HIGH if sound == "high" else None
    alarms = tuple(
        a if keep is not None and a.priority >= keep else replace(a, audible=False) for a in snapshot.alarms
    )
    return replace(snapshot, alarms=alarms)
