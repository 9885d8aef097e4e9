"""Command-line and station hooks of the interfaces (see wardwatch.app.extensions).

- `--hl7-out HOST:PORT`, `--hl7-in PORT`, `--fhir-out URL` on `wardwatch` and `wardwatch run`;
- `wardwatch interop status` (works beside a running station: it reads the status file the station
  writes every 2 s, and the outbox counts from the record when no station runs);
- `wardwatch bench interop`;
- `start_services`: the InteropService beside a GUI or headless station.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wardwatch.app.config import default_config_path, load_config, resolve_data_dir
from wardwatch.app.domain import TechnicalKind
from wardwatch.app.extensions import CommandGroups, Service, ServiceContext
from wardwatch.app.status_files import age_text, read_status_file, written_by_live_station

log = logging.getLogger(__name__)

STALE_AFTER_S = 10.0


def add_station_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--hl7-out", default=default, metavar="HOST:PORT", help="send numerics and alarms as HL7 v2 over MLLP"
    )
    parser.add_argument(
        "--hl7-in", type=int, default=default, metavar="PORT", help="accept ADT (admit/transfer/discharge)"
    )
    parser.add_argument(
        "--fhir-out", default=default, metavar="URL", help="send Observations to a FHIR server"
    )


def add_commands(groups: CommandGroups) -> None:
    interop = groups.top.add_parser("interop", help="HL7 v2 and FHIR interfaces")
    sub = interop.add_subparsers(dest="interop", required=True)
    status = sub.add_parser("status", help="links, backlog and last error (also while a station runs)")
    status.add_argument("--data-dir", type=Path, default=None, metavar="DIR", help="where the database lives")
    status.add_argument("--config", type=Path, default=None, metavar="FILE", help="configuration file (TOML)")
    status.add_argument("--key-file", type=Path, default=None, metavar="PATH", help="database key file")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(handler=cmd_status, command_name="interop status")

    bench = groups.bench.add_parser("interop", help="HL7 messages per second and backlog drain on loopback")
    bench.add_argument("--beds", type=int, default=32)
    bench.add_argument("--outage-hours", type=float, default=1.0, help="outage whose backlog is drained")
    bench.add_argument("--seconds", type=float, default=10.0, help="sustained-rate measurement")
    bench.add_argument("--dir", type=Path, default=None, help="where to build the database (default: temp)")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.set_defaults(handler=cmd_bench, command_name="bench interop")


def start_services(ctx: ServiceContext) -> Sequence[Service]:
    from wardwatch.app.interop.reports import Identity, station_eui64
    from wardwatch.app.interop.service import STATUS_FILE, InteropService
    from wardwatch.app.interop.settings import settings_from

    settings = settings_from(ctx.config, ctx.args)
    if getattr(ctx.args, "view", None):
        # a viewer-only instance (`wardwatch --view`) monitors no beds: it has nothing to report, and an
        # ADT listener there would admit patients to beds that do not exist
        if settings.hl7_out or settings.fhir_out or settings.hl7_in_port or settings.alarm_out:
            log.info("interfaces not started: this instance only views other stations")
        return []
    if ctx.record is None:
        if settings.hl7_out or settings.fhir_out or settings.hl7_in_port or settings.alarm_out:
            detail = "the interfaces need the encrypted record for their queue: they are off"
            log.error("%s", detail)
            ctx.station.station_condition(TechnicalKind.INTERFACE_DOWN, True, detail)
        return []
    from wardwatch.storage.interop_queue import OutboxQueue

    identity = Identity("WARDWATCH", station_eui64(ctx.config.station_name), settings.facility)
    data_dir = resolve_data_dir(ctx.config)
    config_path = getattr(ctx.args, "config", None) or default_config_path()
    service = InteropService(
        ctx.station,
        OutboxQueue(ctx.record.record.engine),
        settings,
        identity,
        status_path=data_dir / STATUS_FILE,
        config_path=Path(config_path),
    )
    service.start()
    ctx.station.services["interop"] = service
    return [service]


def _print_status(data: dict[str, Any], live: bool, out: Any) -> None:
    now = time.time()
    print(f"station: {'running' if live else 'not running (counts from the record)'}", file=out)
    if data.get("problem"):
        print(f"problem: {data['problem']}", file=out)
    links = data.get("links") or []
    if not links:
        print("outbound links: none configured", file=out)
    for link in links:
        state = link.get("state", "?")
        if link.get("down_since"):
            state += f" since {age_text(link['down_since'], now)}"
        print(
            f"link {link['name']:<7} {link.get('target', ''):<36} {state:<20}"
            f" backlog {link.get('pending', 0):>6}"
            f"  refused {link.get('refused', 0):>4}  sent {link.get('sent', 0):>6}"
            f"  oldest waiting {age_text(link.get('oldest_pending'), now)}",
            file=out,
        )
        if link.get("last_error"):
            print(f"     last error: {link['last_error']}", file=out)
    inbound = data.get("inbound")
    if inbound:
        print(
            f"ADT in  port {inbound['port']} {inbound['state']}: {inbound['received']} received,"
            f" {inbound['accepted']} accepted, {inbound['refused']} refused,"
            f" {inbound['dropped_frames']} bad frames dropped",
            file=out,
        )
        if inbound.get("last_error"):
            print(f"     last error: {inbound['last_error']}", file=out)


def _from_record(data_dir: Path, key_file: Path | None) -> dict[str, Any]:
    from wardwatch.app.interop.service import ALARMS, FHIR, HL7
    from wardwatch.storage.database import open_for_reading
    from wardwatch.storage.interop_queue import OutboxQueue

    record = open_for_reading(data_dir, key_file=key_file)
    try:
        queue = OutboxQueue(record.engine)
        links = []
        for name in (HL7, ALARMS, FHIR):
            backlog = queue.backlog(name)
            if backlog.pending or backlog.refused or backlog.sent:
                links.append(
                    {
                        "name": name,
                        "target": "",
                        "state": "stopped",
                        "pending": backlog.pending,
                        "refused": backlog.refused,
                        "sent": backlog.sent,
                        "oldest_pending": backlog.oldest_pending,
                    }
                )
        return {"links": links, "inbound": None}
    finally:
        record.close()


def cmd_status(args: argparse.Namespace) -> int:
    from wardwatch.app.interop.service import STATUS_FILE
    from wardwatch.storage.errors import RecordError

    config = load_config(args.config).config
    data_dir = args.data_dir or resolve_data_dir(config)
    data = read_status_file(data_dir / STATUS_FILE)
    live = data is not None and written_by_live_station(data, STALE_AFTER_S)
    if not live:
        try:
            data = _from_record(data_dir, args.key_file)
        except RecordError as exc:
            print(f"wardwatch: no running station and the record cannot be read: {exc}", file=sys.stderr)
            return 1
    assert data is not None
    if args.json:
        print(json.dumps({**data, "running": live}))
    else:
        _print_status(data, live, sys.stdout)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from wardwatch.app.interop.bench import bench_interop

    result = bench_interop(args.beds, args.outage_hours, args.seconds, args.dir)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>34}: {value}")
    return 0
