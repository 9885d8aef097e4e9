"""The interfaces' settings: from the config file's [interop] section, overridden on the command line
(`--hl7-out`, `--hl7-in`, `--fhir-out`) and changed live from the admin dialog."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path

from wardwatch.app.config import (
    DEFAULT_INTEROP_ACK_TIMEOUT_S,
    DEFAULT_INTEROP_FACILITY,
    DEFAULT_INTEROP_LINK_DOWN_S,
    DEFAULT_INTEROP_NUMERICS_S,
    StationConfig,
)


@dataclass(frozen=True, slots=True)
class InteropSettings:
    hl7_out: str | None = None
    alarm_out: str | None = None
    hl7_in_port: int | None = None
    fhir_out: str | None = None
    numerics_interval_s: float = DEFAULT_INTEROP_NUMERICS_S
    ack_timeout_s: float = DEFAULT_INTEROP_ACK_TIMEOUT_S
    link_down_alarm_s: float = DEFAULT_INTEROP_LINK_DOWN_S
    tls_ca_file: Path | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    facility: str = DEFAULT_INTEROP_FACILITY

    @property
    def alarm_target(self) -> str | None:
        """Where alarms go: the alarm manager, or else the engine that takes the numerics."""
        return self.alarm_out or self.hl7_out

    def checked(self) -> InteropSettings:
        """The same settings after the config file's checks (raises ValueError naming the field)."""
        config = StationConfig(**{f"interop_{f.name}": getattr(self, f.name) for f in fields(self)})
        return settings_from(config)


def settings_from(config: StationConfig, args: argparse.Namespace | None = None) -> InteropSettings:
    settings = InteropSettings(
        **{f.name: getattr(config, f"interop_{f.name}") for f in fields(InteropSettings)}
    )
    if args is None:
        return settings
    overrides: dict[str, object] = {}
    for option, name in (("hl7_out", "hl7_out"), ("hl7_in", "hl7_in_port"), ("fhir_out", "fhir_out")):
        value = getattr(args, option, None)
        if value is not None:
            overrides[name] = value
    return replace(settings, **overrides).checked() if overrides else settings  # type: ignore[arg-type]


def describe(settings: InteropSettings) -> str:
    """The settings in one line, for the audit trail's before/after."""
    return "; ".join(f"{f.name}={getattr(settings, f.name)}" for f in fields(settings))


def split_host_port(text: str) -> tuple[str, int]:
    match = re.match(r"^\[?(.+?)\]?:(\d+)$", text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not host:port")
    return match.group(1), int(match.group(2))


def toml_section(settings: InteropSettings) -> str:
    """The [interop] section of the config file for these settings (unset values left commented)."""
    lines = ["[interop]"]
    for f in fields(settings):
        value = getattr(settings, f.name)
        if value is None:
            lines.append(f"# {f.name} =")
        elif isinstance(value, str | Path):
            escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{f.name} = "{escaped}"')
        elif isinstance(value, float) and value.is_integer():
            lines.append(f"{f.name} = {int(value)}")
        else:
            lines.append(f"{f.name} = {value}")
    return "\n".join(lines) + "\n"


def with_section(text: str, section: str) -> str:
    """`text` (a config file) with its [interop] table replaced by `section`, or `section` appended.
    The table ends at the next table header or feature marker comment, so other sections stay as they are."""
    out: list[str] = []
    lines = text.splitlines(keepends=True)
    i, placed = 0, False
    while i < len(lines):
        if lines[i].strip() == "[interop]":
            out.append(section)
            placed = True
            i += 1
            while i < len(lines) and not re.match(r"^\s*(\[|# -- )", lines[i]):
                i += 1
            continue
        out.append(lines[i])
        i += 1
    if not placed:
        out.append(("\n" if text and not text.endswith("\n\n") else "") + section)
    return "".join(out)


def save_settings(path: Path, settings: InteropSettings) -> None:
    """Write the settings into the config file's [interop] table (the rest of the file is kept)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(with_section(text, toml_section(settings)), encoding="utf-8")
    tmp.replace(path)
