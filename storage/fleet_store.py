"""Reading and writing the device fleet's tables (the fleet service writes, `wardwatch devices` reads)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from wardwatch.app.fleet.assets import Asset
from wardwatch.app.fleet.history import HistoryRow
from wardwatch.storage.fleet_tables import fleet_devices, fleet_history

HISTORY_DAYS = 90.0  # the history the maintenance predictions can ever use, and a margin


def save(engine: Engine, assets: Sequence[Asset], rows: Sequence[HistoryRow]) -> None:
    """The asset list as it is now and the new history rows, in one transaction. `last_service` is
    left as the record has it (it is set by `mark_serviced`)."""
    with engine.begin() as conn:
        for a in assets:
            values = a.to_json()
            values.pop("missing", None)
            values.pop("last_service", None)
            conn.execute(
                sqlite_insert(fleet_devices)
                .values(values)
                .on_conflict_do_update(
                    index_elements=["id"], set_={k: v for k, v in values.items() if k != "id"}
                )
            )
        if rows:
            conn.execute(
                insert(fleet_history),
                [
                    {
                        "device_id": r.device_id,
                        "time": r.time,
                        "battery": r.battery,
                        "link_quality": r.link_quality,
                        "decode_errors": r.decode_errors,
                        "disconnects": r.disconnects,
                        "sensor_off": r.sensor_off,
                        "connected": r.connected,
                    }
                    for r in rows
                ],
            )


def load_assets(engine: Engine) -> list[Asset]:
    with engine.connect() as conn:
        query = select(fleet_devices).order_by(fleet_devices.c.bed, fleet_devices.c.id)
        rows = conn.execute(query).mappings()
        return [Asset.from_row(row) for row in rows]


def load_history(engine: Engine, since: float, devices: Iterable[str] | None = None) -> list[HistoryRow]:
    """History rows from `since` on, oldest first (of the given devices, or all)."""
    query = select(fleet_history).where(fleet_history.c.time >= since)
    if devices is not None:
        query = query.where(fleet_history.c.device_id.in_(list(devices)))
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(fleet_history.c.time)).mappings()
        return [
            HistoryRow(
                r["device_id"], r["time"], r["battery"], r["link_quality"], r["decode_errors"],
                r["disconnects"], r["sensor_off"], bool(r["connected"]),
            )
            for r in rows
        ]


def mark_serviced(engine: Engine, device_id: str, when: float) -> bool:
    """Record that a device was serviced (its maintenance due date counts from then)."""
    with engine.begin() as conn:
        query = update(fleet_devices).where(fleet_devices.c.id == device_id).values(last_service=when)
        done = conn.execute(query)
        return bool(done.rowcount)


def purge_history(engine: Engine, before: float) -> int:
    with engine.begin() as conn:
        return int(conn.execute(delete(fleet_history).where(fleet_history.c.time < before)).rowcount or 0)


def last_services(engine: Engine) -> dict[str, float | None]:
    with engine.connect() as conn:
        rows = conn.execute(select(fleet_devices.c.id, fleet_devices.c.last_service))
        return {r.id: r.last_service for r in rows}


class FleetStore:
    """The fleet tables of one open record, as the fleet service uses them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load_assets(self) -> list[Asset]:
        return load_assets(self.engine)

    def load_history(self, since: float) -> list[HistoryRow]:
        return load_history(self.engine, since)

    def save(self, assets: Sequence[Asset], rows: Sequence[HistoryRow]) -> None:
        save(self.engine, assets, rows)

    def last_services(self) -> dict[str, float | None]:
        return last_services(self.engine)

    def purge(self, now: float) -> int:
        return purge_history(self.engine, now - HISTORY_DAYS * 86400.0)
