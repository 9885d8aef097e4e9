"""Command-line and station hooks of this feature (see wardwatch.app.extensions).

`wardwatch report handover [--bed N | --ward] --hours 12 --out FILE.pdf` writes the handover report
from the record (it may run while the station records: it only reads); `wardwatch bench review`
measures the review on a 72 h × 32-bed record; beside a recording station the review service answers
the review screens' queries on a worker thread.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wardwatch.app.extensions import CommandGroups, Service, ServiceContext

REVIEW_SERVICE = "review"  # the key of station.services the window looks for
MAX_REPORT_HOURS = 72.0  # what the record keeps of full disclosure; trends go further but a report won't


def add_commands(groups: CommandGroups) -> None:
    from wardwatch.app.cli import _record_command_options

    report = groups.top.add_parser("report", help="reports from the record")
    kinds = report.add_subparsers(dest="report", required=True)
    handover = kinds.add_parser(
        "handover", help="the shift handover report (PDF): per bed vitals, NEWS2, alarms, problems, notes"
    )
    which = handover.add_mutually_exclusive_group()
    which.add_argument("--bed", metavar="N", help="one bed: its number, id (bed04) or label ('Bed 4')")
    which.add_argument("--ward", action="store_true", help="every bed of the ward (the default)")
    handover.add_argument("--hours", type=float, default=12.0, metavar="H", help="the period, up to the end")
    handover.add_argument(
        "--end",
        metavar="TIME",
        default=None,
        help="end of the period, ISO 8601 (UTC unless it says); default now",
    )
    handover.add_argument("--out", type=Path, required=True, metavar="FILE.pdf", help="the PDF to write")
    _record_command_options(handover)
    handover.set_defaults(handler=cmd_report_handover)

    bench = groups.bench.add_parser(
        "review", help="trend views and the ward handover report on a 72 h × 32-bed record"
    )
    bench.add_argument("--beds", type=int, default=32)
    bench.add_argument("--hours", type=float, default=72.0, help="hours in the record")
    bench.add_argument("--report-hours", type=float, default=12.0)
    bench.add_argument("--repeat", type=int, default=5, help="times each view is opened")
    bench.add_argument(
        "--dir", default=None, metavar="DIR", help="where the record is built (kept for reuse)"
    )
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.set_defaults(handler=cmd_bench_review)


def cmd_report_handover(args: argparse.Namespace) -> int:
    from wardwatch.app.cli import CliError, _load, parse_time
    from wardwatch.app.config import resolve_data_dir
    from wardwatch.app.review.handover import make_handover_report, ward_beds
    from wardwatch.storage.database import open_for_reading
    from wardwatch.storage.review_queries import review_reader

    if not 0 < args.hours <= MAX_REPORT_HOURS:
        raise CliError(f"--hours must be more than 0 and at most {MAX_REPORT_HOURS:g}")
    if args.out.suffix.lower() != ".pdf":
        raise CliError("--out must name a .pdf file")
    loaded = _load(args)
    end = parse_time(args.end, time.time())
    start = end - args.hours * 3600.0
    record = open_for_reading(resolve_data_dir(loaded.config), key_file=args.key_file)
    try:
        reader = review_reader(record.reader())
        beds = ward_beds(reader, args.bed)
        if not beds:
            raise CliError(
                f"there is no bed {args.bed!r} in the record" if args.bed else "the record has no beds"
            )
        try:
            out = make_handover_report(
                reader, beds, start, end, args.out, loaded.config.station_name, _progress_line
            )
        except OSError as exc:
            raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    finally:
        record.close()
    print(f"\nhandover report of {len(beds)} bed(s) over {args.hours:g} h written to {out}", file=sys.stderr)
    return 0


def _progress_line(done: int, total: int) -> None:
    print(f"\rreport: {done}/{total}", end="", file=sys.stderr, flush=True)


def cmd_bench_review(args: argparse.Namespace) -> int:
    import json

    from wardwatch.app.review.bench import bench_review

    result = bench_review(args.beds, args.hours, args.report_hours, args.repeat, args.dir, args.seed)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>26}: {value}")
    return 0


def start_services(ctx: ServiceContext) -> Sequence[Service]:
    """The review service, when the station records (without a record there is nothing to review)."""
    if ctx.record is None:
        return []
    from wardwatch.app.config import resolve_data_dir
    from wardwatch.app.review.service import ReviewService
    from wardwatch.storage.review_queries import review_reader

    station = ctx.station
    service = ReviewService(
        review_reader(ctx.record.reader),
        beds=lambda: [(b.bed_id, b.label) for b in station.beds],
        station_name=ctx.config.station_name,
        put_critical=ctx.record.writer.put_critical,
        settings_for=station.alarms.settings_for,
        reports_dir=resolve_data_dir(ctx.config) / "reports",
    )
    station.services[REVIEW_SERVICE] = service
    return [service]
