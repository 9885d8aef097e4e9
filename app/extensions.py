"""Feature modules that plug into the command line and into a running station.

Interoperability, users and audit, the device fleet, shift review and the deterioration model each live
in their own package with a `cli` module. That module may define any of:

- `add_commands(groups: CommandGroups) -> None`: add sub-commands; a parser gets its handler with
  `parser.set_defaults(handler=fn)`, where `fn(args) -> int` returns the exit code.
- `add_station_options(parser: argparse.ArgumentParser, default: object) -> None`: options of
  `wardwatch` and `wardwatch run` (`default` is `argparse.SUPPRESS` on `run`, else None).
- `start_services(ctx: ServiceContext) -> Sequence[Service]`: what runs beside a station (GUI or
  headless) once its record is attached; each service is closed when the station stops, in reverse order.

Keeping them here, rather than in cli.py, lets each feature grow without touching the others' code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from wardwatch.app.config import StationConfig
    from wardwatch.app.station import Station

log = logging.getLogger(__name__)

FEATURE_MODULES: tuple[str, ...] = (
    "wardwatch.app.security.cli",
    "wardwatch.app.interop.cli",
    "wardwatch.app.fleet.cli",
    "wardwatch.app.review.cli",
    "wardwatch.app.deterioration.cli",
    "wardwatch.app.hospital.cli",
    "wardwatch.app.hospital.viewer",  # the hospital page's viewer beside a GUI station (and `--view`)
)


class Service(Protocol):
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class CommandGroups:
    """The sub-command groups a feature may add to."""

    top: Any  # argparse._SubParsersAction of `wardwatch`
    bench: Any  # of `wardwatch bench`
    eval: Any  # of `wardwatch eval`


@dataclass(frozen=True, slots=True)
class ServiceContext:
    station: Station
    config: StationConfig
    args: argparse.Namespace
    record: Any  # storage.station_record.StationRecord, or None when the station does not record
    headless: bool


def feature_modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in FEATURE_MODULES]


def add_commands(groups: CommandGroups) -> None:
    for module in feature_modules():
        hook = getattr(module, "add_commands", None)
        if hook is not None:
            hook(groups)


def add_station_options(parser: argparse.ArgumentParser, default: object) -> None:
    for module in feature_modules():
        hook = getattr(module, "add_station_options", None)
        if hook is not None:
            hook(parser, default)


def start_services(ctx: ServiceContext) -> list[Service]:
    """Start every feature's services; one that fails is logged and skipped, the station runs on."""
    started: list[Service] = []
    for module in feature_modules():
        hook = getattr(module, "start_services", None)
        if hook is None:
            continue
        try:
            services: Sequence[Service] = hook(ctx)
        except Exception:
            log.exception("%s could not start its services", module.__name__)
            continue
        started.extend(services)
    return started


def close_services(services: Sequence[Service]) -> None:
    for service in reversed(services):
        try:
            service.close()
        except Exception:
            log.exception("closing %s failed", type(service).__name__)
