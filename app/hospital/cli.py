"""Command-line and station hooks of hospital-wide sharing (see wardwatch.app.extensions).

- `--mqtt URL`, `--view SITE/WARD[,WARD…]`, `--mqtt-ca FILE`, `--mqtt-cert FILE`, `--mqtt-key FILE`,
  `--mqtt-user NAME` on `wardwatch` and `wardwatch run` (the password: WARDWATCH_MQTT_PASSWORD or
  `[mqtt] password_file`, never a flag);
- `wardwatch mqtt status [--json]` (reads the status file a running station writes every 2 s);
- `wardwatch bench mqtt [--beds N] [--seconds S] [--json]`;
- `start_services`: the HospitalPublisher beside a GUI or headless station when a broker is configured
  and the station is not a viewer (`--view` is the viewer's, started by the front end).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wardwatch.app.config import load_config, resolve_data_dir
from wardwatch.app.domain import TechnicalKind
from wardwatch.app.status_files import age_text, read_status_file, written_by_live_station

if TYPE_CHECKING:
    from wardwatch.app.extensions import CommandGroups, Service, ServiceContext

log = logging.getLogger(__name__)

STALE_AFTER_S = 10.0


def add_station_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--mqtt",
        default=default,
        metavar="URL",
        help="share the beds through an MQTT broker (mqtt://, mqtts://)",
    )
    parser.add_argument(
        "--view",
        default=default,
        metavar="SITE/WARD[,WARD…]",
        help="show other stations' beds from the broker, read-only (SITE/* = every ward of the site)",
    )
    parser.add_argument(
        "--mqtt-ca", type=Path, default=default, metavar="FILE", help="CA of the broker (TLS)"
    )
    parser.add_argument("--mqtt-cert", type=Path, default=default, metavar="FILE", help="client certificate")
    parser.add_argument(
        "--mqtt-key", type=Path, default=default, metavar="FILE", help="client certificate key"
    )
    parser.add_argument(
        "--mqtt-user", default=default, metavar="NAME", help="broker user (password: WARDWATCH_MQTT_PASSWORD)"
    )


def add_commands(groups: CommandGroups) -> None:
    mqtt = groups.top.add_parser("mqtt", help="hospital-wide sharing through an MQTT broker")
    sub = mqtt.add_subparsers(dest="mqtt_command", required=True)
    status = sub.add_parser("status", help="broker link, alarm backlog, counts and last error")
    status.add_argument("--data-dir", type=Path, default=None, metavar="DIR", help="the station's data dir")
    status.add_argument("--config", type=Path, default=None, metavar="FILE", help="configuration file (TOML)")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(handler=cmd_status, command_name="mqtt status")

    bench = groups.bench.add_parser(
        "mqtt", help="beds per station, alarm latency and wave bandwidth on loopback"
    )
    bench.add_argument(
        "--beds",
        type=int,
        default=2048,
        help="largest station measured (steps 8, 16, … up to it, or until publishing passes 10 %% of a core)",
    )
    bench.add_argument("--events", type=int, default=200, help="alarm events timed station → viewer")
    bench.add_argument("--seconds", type=float, default=20.0, help="measurement time")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.set_defaults(handler=cmd_bench, command_name="bench mqtt")


def start_services(ctx: ServiceContext) -> Sequence[Service]:
    from wardwatch.app.hospital.publisher import SERVICE_NAME, STATUS_FILE, HospitalPublisher
    from wardwatch.app.hospital.settings import SettingsError, configured_url, settings_from

    if getattr(ctx.args, "view", None) or not configured_url(ctx.config, ctx.args):
        return []  # not shared, or a viewer (the front end starts the viewer's own connection)
    try:
        settings = settings_from(ctx.config, ctx.args)
    except (SettingsError, ValueError) as exc:
        detail = f"MQTT sharing is off: {exc}"
        log.error("%s", detail)
        ctx.station.station_condition(TechnicalKind.BROKER_DOWN, True, detail)
        return []
    if settings is None:
        return []
    status_path: Path | None = None
    try:
        data_dir = resolve_data_dir(ctx.config)
        data_dir.mkdir(parents=True, exist_ok=True)
        status_path = data_dir / STATUS_FILE
    except OSError as exc:
        log.warning("no MQTT status file: %s", exc.strerror or exc)
    try:
        publisher = HospitalPublisher(ctx.station, settings, status_path=status_path)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError: a certificate or key that is no good
        detail = f"MQTT sharing is off: the TLS files cannot be used ({exc})"
        log.error("%s", detail)
        ctx.station.station_condition(TechnicalKind.BROKER_DOWN, True, detail)
        return []
    ctx.station.services[SERVICE_NAME] = publisher
    publisher.start()
    log.info("sharing the beds through MQTT: %s", settings.describe())
    return [publisher]


def _print_status(data: dict[str, Any], live: bool, out: Any) -> None:
    now = time.time()
    last_seen = age_text(data.get("updated"), now)
    state = data.get("state", "?") if live else f"not running (last seen {last_seen})"
    print(f"station: {state}", file=out)
    print(f"broker:  {data.get('broker', '?')} as {data.get('site', '?')}/{data.get('ward', '?')}", file=out)
    if data.get("down_since"):
        print(f"down since {age_text(data['down_since'], now)}", file=out)
    elif data.get("connected_since"):
        print(f"connected since {age_text(data['connected_since'], now)}", file=out)
    print(
        f"alarm events: backlog {data.get('backlog', 0)}, sent {data.get('sent', 0)},"
        f" dropped {data.get('dropped', 0)}, refused by the broker {data.get('refused', 0)};"
        f" messages published {data.get('published', 0)}",
        file=out,
    )
    print(
        f"requests: rejected {data.get('rejected', 0)}, acknowledgements done {data.get('acks_done', 0)},"
        f" refused {data.get('acks_refused', 0)}; waves streamed: {len(data.get('streaming') or [])} bed(s)",
        file=out,
    )
    if data.get("last_error"):
        print(f"last error: {data['last_error']}", file=out)


def cmd_status(args: argparse.Namespace) -> int:
    from wardwatch.app.hospital.publisher import STATUS_FILE

    config = load_config(args.config).config
    data_dir = args.data_dir or resolve_data_dir(config)
    data = read_status_file(data_dir / STATUS_FILE)
    if data is None:
        print(
            f"wardwatch: no MQTT status in {data_dir} (no station has shared its beds from there)",
            file=sys.stderr,
        )
        return 1
    live = data.get("state") != "stopped" and written_by_live_station(data, STALE_AFTER_S)
    if args.json:
        print(json.dumps({**data, "running": live}))
    else:
        _print_status(data, live, sys.stdout)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from wardwatch.app.hospital.bench import cmd_bench as run_bench  # H3's module: loopback broker bench

    return int(run_bench(args))
