"""The fleet service beside a running station: it surveys every device every few seconds (memory
only), keeps the asset list and each device's history, writes both into the encrypted record once a
minute and recomputes the maintenance flags. The window's views read `assets` and `flags` (immutable
tuples, replaced whole) from `station.services["fleet"]`; nothing here runs on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from wardwatch.app.fleet.assets import Asset, Ledger, flag_missing
from wardwatch.app.fleet.history import DeviceHistory, HistoryRow
from wardwatch.app.fleet.maintenance import Flag, maintenance_flags
from wardwatch.app.fleet.survey import survey

if TYPE_CHECKING:
    from wardwatch.app.config import StationConfig
    from wardwatch.app.station import Station

log = logging.getLogger(__name__)

SERVICE_NAME = "fleet"
SURVEY_EVERY_S = 2.0
HISTORY_EVERY_S = 60.0
FLAGS_EVERY_S = 60.0
PURGE_EVERY_S = 3600.0
SEED_HISTORY_S = 3 * 86400.0


class FleetService:
    def __init__(self, station: Station, config: StationConfig, store: Any | None = None) -> None:
        """`store`: the record's engine wrapped by storage.fleet_store functions (None: no record)."""
        self._station = station
        self._clock = station.clock
        self._shift_hours = config.fleet_shift_hours
        self._maintenance_days = dict(config.fleet_maintenance_days)
        self._missing_after_s = config.fleet_missing_after_min * 60.0
        self._store = store
        self._ledger = Ledger()
        self._histories: dict[str, DeviceHistory] = {}
        self.assets: tuple[Asset, ...] = ()
        self.flags: tuple[Flag, ...] = ()
        self.recording = "not recorded (no record)" if store is None else "starting"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_history = 0.0
        self._next_flags = 0.0
        self._next_purge = 0.0
        self._pending: list[HistoryRow] = []

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> FleetService:
        self._thread = threading.Thread(target=self._run, name="fleet-survey", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10.0)
        self._thread = None
        self._guard("final save", lambda: self._save(self._clock.now()))

    def _run(self) -> None:
        self._guard("reading the fleet from the record", self._seed)
        while not self._stop.is_set():
            self._guard("fleet survey", self.tick)
            if self._clock.wait(SURVEY_EVERY_S, self._stop):
                break

    def _guard(self, what: str, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as exc:  # the asset list must never take anything else down
            log.error("%s failed: %s", what, type(exc).__name__, exc_info=exc)
            if self._store is not None and ("record" in what or "save" in what):
                self.recording = f"not recorded ({type(exc).__name__})"

    # -- the work (the service's thread; `tick` is public for tests) ------------------------------------
    def _seed(self) -> None:
        if self._store is None:
            return
        now = self._clock.now()
        self._ledger.seed(self._store.load_assets())
        for row in self._store.load_history(now - SEED_HISTORY_S):
            self._history(row.device_id).add(row)

    def _history(self, device_id: str) -> DeviceHistory:
        history = self._histories.get(device_id)
        if history is None:
            history = self._histories[device_id] = DeviceHistory()
        return history

    def tick(self) -> None:
        now = self._clock.now()
        sightings = survey(self._station, now)
        self._ledger.update(sightings, now)
        seen = {s.device_id: s for s in sightings}
        self.assets = tuple(flag_missing(self._ledger.assets(), now, self._missing_after_s))
        if now >= self._next_history:
            self._next_history = now + HISTORY_EVERY_S
            for a in self.assets:
                s = seen.get(a.id)
                if s is None:
                    continue
                row = HistoryRow(
                    a.id, now, a.battery, a.link_quality, a.decode_errors, a.disconnects, a.sensor_off,
                    s.connected,
                )  # fmt: skip
                self._history(a.id).add(row)
                self._pending.append(row)
            self._save(now)
        if now >= self._next_flags:
            self._next_flags = now + FLAGS_EVERY_S
            self.flags = tuple(self.compute_flags(now))

    def compute_flags(self, now: float) -> list[Flag]:
        histories = {k: h.columns() for k, h in self._histories.items()}
        return maintenance_flags(
            self.assets, histories, now, self._shift_hours, self._maintenance_days, self._missing_after_s
        )

    def _save(self, now: float) -> None:
        if self._store is None:
            return
        rows, self._pending = self._pending, []
        try:
            self._store.save(self.assets, rows)
        except Exception:
            self._pending = rows + self._pending  # tried again with the next save
            raise
        serviced = self._store.last_services()
        self.assets = tuple(_with_service(a, serviced.get(a.id)) for a in self.assets)
        for a in self.assets:
            track = self._ledger.tracks.get(a.id)
            if track is not None:
                track.asset = _with_service(track.asset, a.last_service)
        self.recording = "recorded"
        if now >= self._next_purge:
            self._next_purge = now + PURGE_EVERY_S
            self._store.purge(now)


def _with_service(asset: Asset, when: float | None) -> Asset:
    return replace(asset, last_service=when)
