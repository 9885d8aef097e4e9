"""Command-line and station hooks of the device fleet (see wardwatch.app.extensions).

- `wardwatch devices [--json]`: the asset list, read from the encrypted record, so it works beside a
  running station (WAL: the station writes while this reads); `--maintenance` for the flags, and
  `--serviced ID` to record that a device was serviced;
- `wardwatch bench fleet`: the maintenance predictions on simulated fleets (time to empty, link lead);
- `start_services`: the fleet service beside a GUI or headless station.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wardwatch.app.config import apply_overrides, load_config, resolve_data_dir
from wardwatch.app.extensions import CommandGroups, Service, ServiceContext
from wardwatch.app.fleet.assets import Asset, flag_missing
from wardwatch.app.fleet.history import DeviceHistory
from wardwatch.app.fleet.maintenance import Flag, maintenance_flags
from wardwatch.app.fleet.service import SEED_HISTORY_S, SERVICE_NAME, FleetService

EXIT_OK = 0
EXIT_UNKNOWN_DEVICE = 1


class _Serviced(argparse.Action):
    """Recording a service changes the asset list, so the command is checked as "devices serviced"
    rather than the read-only "devices" (see resources/permissions.toml)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values)
        namespace.command_name = "devices serviced"


def add_commands(groups: CommandGroups) -> None:
    devices = groups.top.add_parser(
        "devices", help="the device fleet: asset list and maintenance flags (also while a station runs)"
    )
    # SUPPRESS: a value given before the sub-command (wardwatch --data-dir X devices) is kept
    kept = argparse.SUPPRESS
    devices.add_argument("--data-dir", type=Path, default=kept, metavar="DIR", help="database dir")
    devices.add_argument("--config", type=Path, default=kept, metavar="FILE", help="config (TOML)")
    devices.add_argument("--key-file", type=Path, default=kept, metavar="PATH", help="database key file")
    devices.add_argument("--json", action="store_true", help="print a JSON list")
    devices.add_argument("--maintenance", action="store_true", help="maintenance flags, most urgent first")
    devices.add_argument(
        "--serviced",
        metavar="DEVICE_ID",
        action=_Serviced,
        help="record that this device was serviced now (needs the device-settings permission)",
    )
    devices.set_defaults(handler=cmd_devices)

    bench = groups.bench.add_parser("fleet", help="time-to-empty error and degrading-link lead, simulated")
    bench.add_argument("--batteries", type=int, default=100)
    bench.add_argument("--devices", type=int, default=100, help="devices of the link fleet")
    bench.add_argument("--degrading", type=int, default=30, help="of which degrade until their link fails")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.set_defaults(handler=cmd_bench)


def start_services(ctx: ServiceContext) -> Sequence[Service]:
    store = None
    if ctx.record is not None:
        from wardwatch.storage.fleet_store import FleetStore

        store = FleetStore(ctx.record.record.engine)
    service = FleetService(ctx.station, ctx.config, store).start()
    ctx.station.services[SERVICE_NAME] = service
    return [service]


def _print_table(rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) if rows else len(c) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns))


def _when(t: float | None) -> str:
    return "" if t is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def cmd_devices(args: argparse.Namespace) -> int:
    from wardwatch.storage import fleet_store
    from wardwatch.storage.database import open_for_reading
    from wardwatch.storage.errors import RecordError

    loaded = load_config(getattr(args, "config", None))
    config = apply_overrides(loaded.config, data_dir=getattr(args, "data_dir", None))
    try:
        record = open_for_reading(resolve_data_dir(config), key_file=getattr(args, "key_file", None))
    except RecordError as exc:
        print(f"wardwatch: {exc}", file=sys.stderr)
        return exc.exit_code
    now = time.time()
    try:
        if args.serviced:
            if not fleet_store.mark_serviced(record.engine, args.serviced, now):
                print(f"wardwatch: no device {args.serviced!r} in the asset list", file=sys.stderr)
                return EXIT_UNKNOWN_DEVICE
            print(f"recorded: {args.serviced} serviced at {_when(now)}")
            return EXIT_OK
        missing_after_s = config.fleet_missing_after_min * 60
        assets = flag_missing(fleet_store.load_assets(record.engine), now, missing_after_s)
        if args.maintenance:
            histories: dict[str, DeviceHistory] = {}
            for row in fleet_store.load_history(record.engine, now - SEED_HISTORY_S):
                histories.setdefault(row.device_id, DeviceHistory()).add(row)
            flags = maintenance_flags(
                assets,
                {k: h.columns() for k, h in histories.items()},
                now,
                config.fleet_shift_hours,
                dict(config.fleet_maintenance_days),
                config.fleet_missing_after_min * 60,
            )
            _show_flags(flags, args.json)
        else:
            _show_assets(assets, args.json)
    finally:
        record.close()
    return EXIT_OK


def _show_assets(assets: list[Asset], as_json: bool) -> None:
    if as_json:
        print(json.dumps([a.to_json() for a in assets], indent=1))
        return
    rows = [
        {
            **a.to_json(),
            "last_seen": _when(a.last_seen),
            "battery": "" if a.battery is None else f"{a.battery:.0f}%",
            "link_quality": "" if a.link_quality is None else f"{a.link_quality:.0f}%",
            "hours_in_use": f"{a.hours_in_use:.1f}",
            "missing": "MISSING" if a.missing else "",
        }
        for a in assets
    ]
    _print_table(
        rows,
        ("id", "type", "bed", "state", "last_seen", "battery", "link_quality", "hours_in_use",
         "decode_errors", "disconnects", "sensor_off", "serial", "missing"),
    )  # fmt: skip


def _show_flags(flags: list[Flag], as_json: bool) -> None:
    if as_json:
        out = [
            {
                "device": f.device_id, "type": f.device_type, "bed": f.bed, "kind": f.kind,
                "urgency": f.urgency.name.lower(), "title": f.title, "evidence": f.evidence, "when": f.when,
            }
            for f in flags
        ]
        print(json.dumps(out, indent=1))
        return
    for f in flags:
        print(f"[{f.urgency.name}] {f.device_id} ({f.device_type}, {f.bed}): {f.title} — {f.evidence}")
    if not flags:
        print("no maintenance flags")


def cmd_bench(args: argparse.Namespace) -> int:
    from wardwatch.app.fleet.bench import bench_fleet

    result = bench_fleet(args.batteries, args.devices, args.degrading, args.seed)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>40}: {value}")
    return EXIT_OK
