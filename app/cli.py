"""The `wardwatch` command line: GUI (default), headless pipeline, benchmarks, information for IT.

Every user-facing failure is a one-line message and an exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from importlib.metadata import entry_points, version
from pathlib import Path
from types import ModuleType
from typing import Any

from wardwatch.app.clock import ScaledClock
from wardwatch.app.config import LoadedConfig, StationConfig, apply_overrides, load_config, resolve_data_dir
from wardwatch.app.diagnostics import device_snapshot
from wardwatch.app.domain import TechnicalKind
from wardwatch.app.extensions import (
    CommandGroups,
    ServiceContext,
    add_commands,
    add_station_options,
    close_services,
    start_services,
)
from wardwatch.app.fleet.mix import default_devices
from wardwatch.app.logs import setup_logging
from wardwatch.app.run_marker import RunMarker, notice
from wardwatch.app.security.command_line import AuthError, add_auth_options, authorize_command
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.devices.base import SourceError
from wardwatch.devices.decoded import DecodeError
from wardwatch.devices.decoders import MESSAGE_DECODERS, STREAM_DECODERS
from wardwatch.storage.errors import RecordError

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_SOURCE = 3
EXIT_NO_FRONTEND = 4

RESTART_NOTICE_S = 600.0  # "Station restarted" stays up this long: long enough for the ward to see it
NOTICE = "WardWatch is not a certified medical device; do not use it for patient care decisions."


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--beds", type=int, default=default, metavar="N", help="number of beds (1-64)")
    parser.add_argument(
        "--seed", type=int, default=default, metavar="N", help="seed of the simulated patients"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=default, metavar="DIR", help="where database, logs and exports live"
    )
    parser.add_argument(
        "--config", type=Path, default=default, metavar="FILE", help="configuration file (TOML)"
    )
    parser.add_argument(
        "--replay", type=Path, default=default, metavar="DIR", help="beds from the WFDB records in DIR"
    )
    parser.add_argument(
        "--fps", type=float, default=default, metavar="F", help="display rate (frames per second)"
    )
    parser.add_argument("--station-name", default=default, metavar="NAME", help="name shown on the station")
    _record_options(parser, suppress=suppress)


def _record_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--key-file",
        type=Path,
        default=default,
        metavar="PATH",
        help="file holding the database key as 64 hex characters, mode 0600 (default: the OS keyring)",
    )
    parser.add_argument(
        "--no-record",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="monitor without recording into the encrypted database",
    )


def _record_command_options(parser: argparse.ArgumentParser) -> None:
    """What every command that opens the record (without running the station) takes."""
    parser.add_argument("--data-dir", type=Path, default=None, metavar="DIR", help="where the database lives")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE", help="configuration file (TOML)")
    _record_options(parser, suppress=False)
    add_auth_options(parser)  # who runs it: see wardwatch.app.security.command_line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wardwatch",
        description=f"WardWatch central station. {NOTICE}",
    )
    _common(parser, suppress=False)
    parser.add_argument("--kiosk", action="store_true", help="full screen without window chrome")
    parser.add_argument(
        "--quit-after",
        type=float,
        metavar="SECONDS",
        help="close the station after SECONDS (smoke tests, demos)",
    )
    parser.add_argument("--info", action="store_true", help="print versions and paths for IT, then exit")
    add_station_options(parser, None)
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run the station")
    _common(run, suppress=True)
    run.add_argument("--headless", action="store_true", help="no window: sources, hub and supervisor only")
    run.add_argument(
        "--duration", type=float, metavar="SECONDS", help="stop after this many seconds of station time"
    )
    run.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="X",
        help="run simulated sources X times faster than real time",
    )
    add_station_options(run, argparse.SUPPRESS)

    bench = sub.add_parser("bench", help="measure performance")
    bench_sub = bench.add_subparsers(dest="bench", required=True)
    display = bench_sub.add_parser("display", help="the real main window with simulated beds")
    _common(display, suppress=True)
    display.add_argument("--seconds", type=float, default=20.0)
    display.add_argument("--warmup", type=float, default=3.0, metavar="SECONDS")
    display.add_argument("--json", action="store_true", help="print one JSON object")
    hub = bench_sub.add_parser("hub", help="StreamHub push and read throughput on one core")
    _common(hub, suppress=True)
    hub.add_argument("--seconds", type=float, default=5.0)
    hub.add_argument("--json", action="store_true", help="print one JSON object")

    latency = bench_sub.add_parser("latency", help="alarm condition to banner and tone, on the real window")
    _common(latency, suppress=True)
    latency.add_argument("--events", type=int, default=20)
    latency.add_argument("--json", action="store_true", help="print one JSON object")
    alarms = bench_sub.add_parser("alarms", help="a simulated ward-day: WardWatch vs a plain monitor")
    alarms.add_argument("--beds", type=int, default=32)
    alarms.add_argument("--hours", type=float, default=24.0)
    alarms.add_argument("--seed", type=int, default=0)
    alarms.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
    alarms.add_argument("--json", action="store_true", help="print one JSON object")

    evaluate = sub.add_parser("eval", help="evaluate the alarm logic on recorded or tabulated data")
    eval_sub = evaluate.add_subparsers(dest="eval", required=True)
    ev_alarms = eval_sub.add_parser(
        "alarms", help="verify the arrhythmia alarms of WFDB records (PhysioNet/CinC 2015 layout)"
    )
    ev_alarms.add_argument("dir", type=Path, metavar="DIR", help="folder with a RECORDS file")
    ev_alarms.add_argument("--out", type=Path, required=True, metavar="FILE", help="decisions CSV to write")
    ev_alarms.add_argument("--cv", type=int, default=0, metavar="K", help="also report a K-fold CV score")
    ev_alarms.add_argument("--seed", type=int, default=0, help="seed of the CV fold split")
    ev_news2 = eval_sub.add_parser("news2", help="score NEWS2 for every row of a CSV file")
    ev_news2.add_argument("input", type=Path, metavar="IN.csv")
    ev_news2.add_argument("--out", type=Path, required=True, metavar="OUT.csv")

    db = sub.add_parser("db", help="the encrypted record: schema upgrade and checks")
    db_sub = db.add_subparsers(dest="db", required=True)
    for name, text in (
        ("upgrade", "create the database or migrate it to this version's schema"),
        ("check", "open the database and run SQLite's integrity check"),
    ):
        _record_command_options(db_sub.add_parser(name, help=text))

    export = sub.add_parser("export", help="export waveforms, trends or events of a period from the record")
    export.add_argument("what", choices=("waves", "trends", "events", "fhir"))
    export.add_argument(
        "--bed", metavar="BED", help="bed id (bed01 …) or label; events: all beds if left out"
    )
    export.add_argument(
        "--from", dest="start", metavar="TIME", help="ISO 8601 (UTC unless it says); default --to - 1 h"
    )
    export.add_argument("--to", dest="end", metavar="TIME", help="ISO 8601 (UTC unless it says); default now")
    export.add_argument(
        "--format", choices=("edf", "wfdb", "csv"), default=None, help="waves: edf (default), wfdb, csv"
    )
    export.add_argument(
        "--out", type=Path, required=True, metavar="PATH", help="file (folder for wfdb) to write"
    )
    for name, text in (
        ("backup", "write an encrypted copy of the record while the station runs"),
        ("restore", "replace the record by a backup (the current one is moved aside)"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("path", type=Path, metavar="PATH")
    for p in (export, sub.choices["backup"], sub.choices["restore"]):
        _record_command_options(p)

    storage = bench_sub.add_parser("storage", help="record ingest, size on disk and query times")
    storage.add_argument("--beds", type=int, default=32)
    storage.add_argument("--minutes", type=float, default=10.0, help="simulated minutes to ingest")
    storage.add_argument(
        "--hours-big", type=float, default=72.0, help="hours in the database opened for open_ms"
    )
    storage.add_argument(
        "--dir", type=Path, default=None, help="where to build the databases (default: a temp dir)"
    )
    storage.add_argument("--seed", type=int, default=0)
    storage.add_argument("--json", action="store_true", help="print one JSON object")

    link = bench_sub.add_parser("link", help="a serial monitor's cable pulled and plugged back, on a pty")
    link.add_argument("--away", type=float, nargs="+", default=[1.0, 10.0, 30.0], help="seconds unplugged")
    link.add_argument(
        "--protocol",
        choices=["nonin", "intellivue"],
        default="nonin",
        help="the emulated monitor: a Nonin that just sends, or an IntelliVue the station associates with",
    )
    link.add_argument("--json", action="store_true", help="print one JSON object")

    ble = bench_sub.add_parser("ble", help="a Bluetooth patch out of range and back, on a virtual radio")
    ble.add_argument("--away", type=float, nargs="+", default=[1.0, 10.0, 30.0], help="seconds out of range")
    ble.add_argument("--json", action="store_true", help="print one JSON object")

    decoding = bench_sub.add_parser(
        "decode", help="decoding throughput per protocol on one core, and fuzzing"
    )
    decoding.add_argument("--seconds", type=float, default=1.0, help="per protocol")
    decoding.add_argument(
        "--fuzz", type=int, default=0, metavar="N", help="also feed each decoder N mutated inputs"
    )
    decoding.add_argument("--seed", type=int, default=0)
    decoding.add_argument("--json", action="store_true", help="print one JSON object")

    decode = sub.add_parser(
        "decode", help="decode a captured device message; one JSON object per value on standard output"
    )
    decode.add_argument(
        "protocol", choices=sorted({*MESSAGE_DECODERS, *STREAM_DECODERS}), help="the capture's protocol"
    )
    decode.add_argument(
        "file", help="one message (ble-*, polar-pmd), a byte stream (nonin) or text lines (masimo); - = stdin"
    )
    decode.add_argument("--hex", action="store_true", help="the input is hexadecimal text, not bytes")

    info = sub.add_parser("info", help="print versions and paths for IT")
    _common(info, suppress=True)

    diagnostics = sub.add_parser(
        "diagnostics", help="bundle logs, versions, config (no secrets) and device status for support"
    )
    _common(diagnostics, suppress=True)
    diagnostics.add_argument("--out", type=Path, required=True, help="the zip file to write")
    add_auth_options(diagnostics)

    watchdog = sub.add_parser(
        "watchdog",
        help="run the station and start it again within seconds if it dies (kiosk autostart)",
        description="Everything after -- is passed to the station, e.g. 'wardwatch watchdog -- --kiosk'.",
    )
    watchdog.add_argument("station_args", nargs=argparse.REMAINDER, help="-- then the station's arguments")
    add_commands(CommandGroups(top=sub, bench=bench_sub, eval=eval_sub))
    return parser


# -- composition ----------------------------------------------------------------------------------------
def _load(args: argparse.Namespace) -> LoadedConfig:
    loaded = load_config(getattr(args, "config", None))
    try:
        config = apply_overrides(
            loaded.config,
            station_name=getattr(args, "station_name", None),
            bed_count=getattr(args, "beds", None),
            display_fps=getattr(args, "fps", None),
            data_dir=getattr(args, "data_dir", None),
            seed=getattr(args, "seed", None),
        )
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    return LoadedConfig(config=config, messages=loaded.messages, path=loaded.path)


def bed_setups(config: StationConfig, replay: Path | None, beds_given: bool) -> list[BedSetup]:
    if replay is not None:
        from wardwatch.devices.replay import records_in

        records = records_in(replay)
        n = config.bed_count if beds_given else min(config.bed_count, len(records))
        return [BedSetup(f"Bed {i + 1}", f"replay:{records[i % len(records)]}") for i in range(n)]
    from wardwatch.devices.simulator import default_mix

    mix = default_mix(config.bed_count)
    setups = []
    for i in range(config.bed_count):
        configured = config.beds[i] if i < len(config.beds) else None
        label = configured.label if configured is not None else f"Bed {i + 1}"
        source = configured.source if configured is not None and configured.source else f"sim:{mix[i]}"
        devices = configured.devices if configured is not None else None
        if devices is None:  # a simulated bed gets simulated pumps and sensors, others none
            devices = default_devices(i) if source.startswith("sim:") else ()
        setups.append(BedSetup(label, source, devices))
    return setups


def make_station(config: StationConfig, replay: Path | None, beds_given: bool, speed: float = 1.0) -> Station:
    try:
        beds = bed_setups(config, replay, beds_given)
    except SourceError as exc:
        raise CliError(str(exc), EXIT_SOURCE) from exc
    options: dict[str, object] = {"nibp_interval_s": config.nibp_interval_s}
    return Station(StationSetup(config.station_name, beds, config.seed, options), ScaledClock(speed))


def frontend() -> ModuleType:
    for ep in entry_points(group="wardwatch.frontends"):
        if ep.name == "qt":
            module: ModuleType = ep.load()
            return module
    raise CliError("the Qt front end is not installed (reinstall WardWatch)", EXIT_NO_FRONTEND)


def start_record(station: Station, args: argparse.Namespace, config: StationConfig) -> tuple[Any, list[str]]:
    """Record the station into the encrypted database in the data dir. When the record cannot be
    opened the station still monitors: the reason becomes a message and the station's own technical
    alarm "Recording stopped"."""
    if getattr(args, "no_record", False):
        station.recording = "off (--no-record)"
        return None, []
    from wardwatch.storage.station_record import attach_record, ignore_file_size_signal
    from wardwatch.storage.writer import Retention

    ignore_file_size_signal()
    try:
        retention = Retention(config.waveform_hours * 3600.0, config.trend_days * 86400.0)
        return attach_record(
            station, resolve_data_dir(config), getattr(args, "key_file", None), retention
        ), []
    except RecordError as exc:
        log.error("not recording: %s", exc)
        station.station_condition(TechnicalKind.RECORDING_STOPPED, True, str(exc))
        station.recording = "OFF (see alarm)"
        return None, [f"Not recording: {exc} Monitoring and alarms go on."]


def begin_run(station: Station, config: StationConfig) -> tuple[RunMarker, list[str]]:
    """Claim the data dir's run marker; when the last run left it behind (a crash, a kill, the power),
    raise "Station restarted" for a while and say so."""
    marker = RunMarker(resolve_data_dir(config), lambda: device_snapshot(station))
    previous = marker.begin()
    if previous is None:
        return marker, []
    text = notice(previous, time.time())
    log.warning("%s", text)
    station.station_condition(TechnicalKind.STATION_RESTARTED, True, text)
    clear = threading.Timer(
        RESTART_NOTICE_S, station.station_condition, (TechnicalKind.STATION_RESTARTED, False, text)
    )
    clear.daemon = True
    clear.start()
    return marker, [text]


# -- commands -----------------------------------------------------------------------------------------
def has_display() -> bool:
    """A window can be shown: an X or Wayland display, or a Qt platform chosen explicitly."""
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def cmd_gui(args: argparse.Namespace) -> int:
    if not has_display():
        raise CliError(
            "no display to show the station on (DISPLAY and WAYLAND_DISPLAY are unset); "
            "start it from the desktop session, or use 'wardwatch run --headless'"
        )
    loaded = _load(args)
    for message in loaded.messages:
        log.warning("%s", message)
    station = make_station(loaded.config, args.replay, args.beds is not None)
    record, problems = start_record(station, args, loaded.config)
    marker: RunMarker | None = None
    services = start_services(ServiceContext(station, loaded.config, args, record, headless=False))
    try:
        marker, restarted = begin_run(station, loaded.config)
        return int(
            frontend().run_gui(
                station,
                loaded.config.display_fps,
                [*loaded.messages, *problems, *restarted],
                kiosk=args.kiosk,
                quit_after=getattr(args, "quit_after", None),
            )
        )
    finally:
        close_services(services)
        if marker is not None:
            marker.end()
        if record is not None:
            record.close()


def cmd_run(args: argparse.Namespace) -> int:
    if not args.headless:
        return cmd_gui(argparse.Namespace(**{**vars(args), "kiosk": False, "quit_after": None}))
    from wardwatch.app.headless import run_headless

    if args.speed <= 0:
        raise CliError("--speed must be greater than 0")
    loaded = _load(args)
    for message in loaded.messages:
        print(message, file=sys.stderr)
    station = make_station(
        loaded.config, getattr(args, "replay", None), getattr(args, "beds", None) is not None, args.speed
    )
    record, problems = start_record(station, args, loaded.config)
    for message in problems:
        print(message, file=sys.stderr)
    marker: RunMarker | None = None
    services = start_services(ServiceContext(station, loaded.config, args, record, headless=True))
    try:
        marker, restarted = begin_run(station, loaded.config)
        for message in restarted:
            print(message, flush=True)
        return run_headless(station, args.duration, sys.stdout)
    finally:
        close_services(services)
        if marker is not None:
            marker.end()
        if record is not None:
            record.close()


def cmd_db(args: argparse.Namespace) -> int:
    from wardwatch.storage.database import integrity_ok, open_record

    loaded = _load(args)
    data_dir = resolve_data_dir(loaded.config)
    record = open_record(
        data_dir, key_file=args.key_file, create=args.db == "upgrade", migrate=args.db == "upgrade"
    )
    try:
        if args.db == "upgrade":
            print(f"database {record.path} is at schema {_schema_revision(record.engine)}")
            return EXIT_OK
        ok = integrity_ok(record.engine)
        print(f"database {record.path}: {'integrity ok' if ok else 'INTEGRITY CHECK FAILED'}")
        return EXIT_OK if ok else 1
    finally:
        record.close()


def parse_time(text: str | None, default: float) -> float:
    """ISO 8601 (naive = UTC) or "now" to UTC seconds; `default` when not given."""
    if text is None:
        return default
    if text.strip().lower() == "now":
        return time.time()
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CliError(
            f"cannot read the time {text!r}; use ISO 8601 such as 2026-11-24T08:00 (UTC)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def cmd_export(args: argparse.Namespace) -> int:
    from wardwatch.storage import export
    from wardwatch.storage.database import open_for_reading

    loaded = _load(args)
    end = parse_time(args.end, time.time())
    start = parse_time(args.start, end - 3600.0)
    if end <= start:
        raise CliError("--to must be after --from")
    if args.what != "events" and not args.bed:
        raise CliError(f"exporting {args.what} needs --bed")
    bed = _bed_id(args.bed, loaded.config) if args.bed else None
    wfdb_out = args.what == "waves" and args.format == "wfdb"
    (args.out if wfdb_out else args.out.parent).mkdir(parents=True, exist_ok=True)
    record = open_for_reading(resolve_data_dir(loaded.config), key_file=args.key_file)
    try:
        reader = record.reader()
        try:
            if args.what == "events":
                export.export_events_csv(reader, bed, start, end, args.out)
            elif args.what == "fhir":
                from wardwatch.app.interop.fhir_export import write_bundle

                write_bundle(reader, bed or "", start, end, args.out)
            elif args.what == "trends":
                export.export_trends_csv(reader, bed or "", start, end, args.out)
            elif (args.format or "edf") == "edf":
                export.export_waves_edf(reader, bed or "", start, end, args.out)
            elif args.format == "wfdb":
                export.export_waves_wfdb(reader, bed or "", start, end, args.out, bed or "record")
            else:
                export.export_waves_csv(reader, bed or "", start, end, args.out)
        except export.ExportError as exc:
            raise CliError(str(exc)) from None
    finally:
        record.close()
    print(f"exported {args.what} of {bed or 'all beds'} to {args.out}")
    return EXIT_OK


def _bed_id(text: str, config: StationConfig) -> str:
    """A bed given by id (bed03) or by its configured label ("Bed 3")."""
    for i, bed in enumerate(config.beds):
        if text.strip().lower() in (f"bed{i + 1:02d}", bed.label.lower()):
            return f"bed{i + 1:02d}"
    return text.strip()


def cmd_backup(args: argparse.Namespace) -> int:
    from wardwatch.storage.backup import backup_file, restore
    from wardwatch.storage.database import DATABASE_NAME, resolve_key

    loaded = _load(args)
    data_dir = resolve_data_dir(loaded.config)
    path = data_dir / DATABASE_NAME
    if args.command == "backup":
        backup_file(path, resolve_key(path, args.key_file, create=False), args.path)
        print(f"backup of {path} written to {args.path} (encrypted with the same key)")
        return EXIT_OK
    if args.key_file is None and not path.exists():
        raise CliError("restoring onto a machine without a database needs --key-file (the backup's key)")
    restored = restore(args.path, data_dir, resolve_key(path, args.key_file, create=False))
    print(f"restored {args.path} to {restored}; the previous database was moved aside next to it")
    return EXIT_OK


def _schema_revision(engine: Any) -> str:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return str(MigrationContext.configure(conn).get_current_revision())


def cmd_decode(args: argparse.Namespace) -> int:
    """Bad input is exit status 2 and one `error: …` line on standard error, never a traceback."""
    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.hex:
        try:
            raw = bytes.fromhex(raw.decode("ascii", errors="strict"))
        except (UnicodeDecodeError, ValueError):
            print(f"error: {args.file} is not hexadecimal text (--hex)", file=sys.stderr)
            return EXIT_USAGE
    stream = STREAM_DECODERS.get(args.protocol)
    if stream is not None:
        # a stream with some bad frames gives its good ones; each bad stretch is named on stderr
        values, errors = stream(raw)
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        if not values:
            if not errors:
                print(f"error: {args.protocol}: nothing to decode in {args.file}", file=sys.stderr)
            return EXIT_USAGE
    else:
        try:
            values = MESSAGE_DECODERS[args.protocol](raw)
        except DecodeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    for value in values:
        print(json.dumps(value.to_json()))
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    # imported here: the analysis stack (scipy, wfdb processing) is not needed to start the station
    if args.eval == "alarms":
        from wardwatch.app.verify import evaluation

        return evaluation.run(args, sys.stdout)
    from wardwatch.app.alarms import news2_csv

    return news2_csv.run_args(args, sys.stderr)


def cmd_bench(args: argparse.Namespace) -> int:
    result: dict[str, Any]
    if args.bench == "alarms":
        from wardwatch.app.alarms import ward_bench

        return ward_bench.run(args, sys.stdout)
    if args.bench == "storage":
        from wardwatch.storage.bench import bench_storage

        result = bench_storage(args.beds, args.minutes, args.hours_big, args.dir, args.seed)
    elif args.bench == "link":
        from wardwatch.devices.serial_port.link_bench import bench_link

        result = bench_link(tuple(args.away), args.protocol)
    elif args.bench == "ble":
        from wardwatch.devices.bluetooth.link_bench import bench_ble_link

        result = bench_ble_link(tuple(args.away))
    elif args.bench == "decode":
        from wardwatch.devices.decode_bench import bench_decode

        result = bench_decode(args.seconds, args.fuzz, args.seed)
    elif args.bench == "latency":
        loaded = _load(args)
        station = make_station(
            loaded.config, getattr(args, "replay", None), getattr(args, "beds", None) is not None
        )
        result = frontend().bench_alarm_latency(station, args.events, loaded.config.display_fps)
    elif args.bench == "hub":
        from wardwatch.app.bench import bench_hub

        result = bench_hub(seconds=args.seconds, beds=getattr(args, "beds", None) or 64)
    else:
        loaded = _load(args)
        station = make_station(
            loaded.config, getattr(args, "replay", None), getattr(args, "beds", None) is not None
        )
        result = frontend().bench_display(
            station, args.seconds, loaded.config.display_fps, warmup_s=args.warmup
        )
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>26}: {value}")
    return EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    loaded = _load(args)
    lines = {
        "wardwatch": version("wardwatch"),
        "python": sys.version.split()[0],
        "config file": str(loaded.path),
        "data dir": str(resolve_data_dir(loaded.config)),
        "notice": NOTICE,
    }
    for name in ("PySide6", "pyqtgraph", "numpy", "wfdb"):
        try:
            lines[name] = version(name)
        except Exception:
            lines[name] = "not installed"
    for key, value in lines.items():
        print(f"{key:>12}: {value}")
    for message in loaded.messages:
        print(f"{'config':>12}: {message}")
    return EXIT_OK


def cmd_diagnostics(args: argparse.Namespace) -> int:
    from wardwatch.app.diagnostics import bundle

    if args.out.exists():
        raise CliError(f"{args.out} already exists; choose another name")
    names = bundle(args.out, _load(args), getattr(args, "data_dir", None))
    print(f"wrote {args.out} ({len(names)} files): {', '.join(names)}")
    return EXIT_OK


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(os.environ.get("WARDWATCH_DEBUG"))
    # a service manager's stop (SIGTERM) takes the same clean way out as Ctrl+C, from the first moment
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        data_dir = getattr(args, "data_dir", None)
        setup_logging(data_dir, verbose=debug)
        if args.info or args.command == "info":
            return cmd_info(args)
        try:  # the one authorisation check, for every command that is an action (users issue)
            authorize_command(args)
        except AuthError as exc:
            raise CliError(str(exc), exc.code) from None
        handler = getattr(args, "handler", None)
        if handler is not None:  # a feature's command (see wardwatch.app.extensions)
            return int(handler(args))
        if args.command == "run":
            return cmd_run(args)
        if args.command == "bench":
            return cmd_bench(args)
        if args.command == "eval":
            return cmd_eval(args)
        if args.command == "decode":
            return cmd_decode(args)
        if args.command == "db":
            return cmd_db(args)
        if args.command == "export":
            return cmd_export(args)
        if args.command in ("backup", "restore"):
            return cmd_backup(args)
        if args.command == "diagnostics":
            return cmd_diagnostics(args)
        if args.command == "watchdog":
            from wardwatch.app.watchdog import watch

            station_args = list(args.station_args)
            if station_args[:1] == ["--"]:
                station_args = station_args[1:]
            return watch(station_args, sys.stdout)
        return cmd_gui(args)
    except CliError as exc:
        print(f"wardwatch: {exc}", file=sys.stderr)
        return exc.code
    except RecordError as exc:
        print(f"wardwatch: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # last resort: log the traceback, show one line
        log.exception("unexpected failure")
        if debug:
            raise
        print(f"wardwatch: unexpected error ({type(exc).__name__}); details are in the log", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
