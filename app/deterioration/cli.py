"""Command-line and station hooks of this feature (see wardwatch.app.extensions)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from wardwatch.app.extensions import CommandGroups, Service, ServiceContext


def _say(text: str) -> None:
    print(text, flush=True)


def _warn(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _train(args: argparse.Namespace) -> int:
    from wardwatch.app.deterioration.table import TableError
    from wardwatch.app.deterioration.train import train

    try:
        out = Path(args.out) if args.out else None
        return train(Path(args.data), out, args.cv, _say, args.patients, args.by_unit)
    except TableError as exc:
        _warn(str(exc))
        return 2


def _evaluate(args: argparse.Namespace) -> int:
    from wardwatch.app.deterioration.evaluate import evaluate
    from wardwatch.app.deterioration.model import ModelError, load_model
    from wardwatch.app.deterioration.table import TableError

    try:
        model = load_model(Path(args.model) if args.model else None)
        return evaluate(Path(args.input), Path(args.out), model, _say, _warn)
    except (TableError, ModelError) as exc:
        _warn(str(exc))
        return 2


def add_commands(groups: CommandGroups) -> None:
    train = groups.top.add_parser("train", help="train a model from data")
    train_sub = train.add_subparsers(dest="train_command", required=True)
    det = train_sub.add_parser(
        "deterioration", help="the deterioration risk model, from a PhysioNet 2019-style table"
    )
    det.add_argument("data", help="CSV(.gz): patient, then the challenge's columns with SepsisLabel")
    det.add_argument("--out", help="model file to write, e.g. resources/deterioration_model.txt.gz")
    det.add_argument("--cv", type=int, metavar="K", help="first cross-validate by patient in K folds")
    det.add_argument("--patients", type=int, metavar="N", help="about N patients only (quick experiments)")
    det.add_argument(
        "--by-unit", action="store_true", help="also train on one ICU's patients and test on the other's"
    )
    det.set_defaults(handler=_train)
    ev = groups.eval.add_parser(
        "deterioration", help="the deterioration risk of every row of a PhysioNet 2019-style table"
    )
    ev.add_argument("input", help="CSV(.gz): patient, then the challenge's columns (SepsisLabel optional)")
    ev.add_argument("--out", required=True, help="CSV to write: patient,ICULOS,risk,alert")
    ev.add_argument("--model", help="a model file other than the shipped one")
    ev.set_defaults(handler=_evaluate)


def start_services(ctx: ServiceContext) -> Sequence[Service]:
    from wardwatch.app.deterioration.service import start_risk_service

    service = start_risk_service(ctx)
    return [service] if service is not None else []
