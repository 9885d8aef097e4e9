"""Station configuration: a TOML file in the user config dir, overridden by command-line flags.

The file format is documented by `resources/defaults.toml`, which holds exactly the built-in defaults.
A broken file never stops the station: every problem becomes a message naming the file, the line and
the key, and the station starts on the defaults for whatever could not be read. A ward must get its
monitors on screen even when somebody mistyped the config.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from difflib import get_close_matches
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import platformdirs

APP_NAME = "wardwatch"
CONFIG_FILE_NAME = "wardwatch.toml"
CONFIG_PATH_ENV = "WARDWATCH_CONFIG"
SCHEMA_VERSION = 1

DEFAULT_STATION_NAME = "WardWatch central"
DEFAULT_BED_COUNT = 16
DEFAULT_DISPLAY_FPS = 30.0
DEFAULT_NIBP_INTERVAL_S = 300.0
# How long the encrypted record keeps full-disclosure waveforms and numeric trends.
DEFAULT_WAVEFORM_HOURS = 72.0
DEFAULT_TREND_DAYS = 30.0
WAVEFORM_HOURS_RANGE = (1.0, 24.0 * 365)
TREND_DAYS_RANGE = (1.0, 3650.0)
DEFAULT_SEED = 0

BED_COUNT_RANGE = (1, 64)
DISPLAY_FPS_RANGE = (5.0, 60.0)
# Real monitors cycle NIBP every 1 min to several hours; 10 s still lets a demo show a few cuffs quickly.
NIBP_INTERVAL_RANGE_S = (10.0, 14_400.0)

_SOURCE_SPEC = re.compile(r"[A-Za-z][A-Za-z0-9_-]*:")


# ---------------------------------------------------------------------------------------------------
# Value checks, shared by the file loader, the command-line overrides and the dataclasses themselves.
# Each returns the normalised value or raises ValueError with a reason that states what is allowed.


def _is_int(value: object) -> bool:
    # bool is an int subclass, but `bed_count = true` is a mistake, not 1 bed
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return _is_int(value) or isinstance(value, float)


def _fmt_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _check_station_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty text")
    return value.strip()


def _check_bed_count(value: object) -> int:
    low, high = BED_COUNT_RANGE
    if not (_is_int(value) and isinstance(value, int) and low <= value <= high):
        raise ValueError(f"must be a whole number from {low} to {high}")
    return value


def _check_float_range(value: object, bounds: tuple[float, float], unit: str) -> float:
    low, high = bounds
    # `not (low <= v <= high)` rather than `v < low or v > high`, so that nan is refused too
    if not (_is_number(value) and isinstance(value, int | float) and low <= value <= high):
        raise ValueError(f"must be a number of {unit} from {_fmt_number(low)} to {_fmt_number(high)}")
    return float(value)


def _check_display_fps(value: object) -> float:
    return _check_float_range(value, DISPLAY_FPS_RANGE, "frames per second")


def _check_nibp_interval(value: object) -> float:
    return _check_float_range(value, NIBP_INTERVAL_RANGE_S, "seconds")


def _check_waveform_hours(value: object) -> float:
    return _check_float_range(value, WAVEFORM_HOURS_RANGE, "hours")


def _check_trend_days(value: object) -> float:
    return _check_float_range(value, TREND_DAYS_RANGE, "days")


def _check_seed(value: object) -> int:
    # numpy's generators refuse negative seeds, so catch that here rather than at simulator start
    if not (_is_int(value) and isinstance(value, int) and value >= 0):
        raise ValueError("must be a whole number of 0 or more")
    return value


def _check_data_dir(value: object) -> Path:
    if isinstance(value, str | os.PathLike):
        text = os.fspath(value)
        if isinstance(text, str) and text.strip():
            return Path(text).expanduser()
    raise ValueError("must be a non-empty path")


def _check_bed_label(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError('must be a non-empty text, e.g. "Bed 4"')
    return value.strip()


def _check_source_spec(value: object) -> str:
    # Only the form is checked: which kinds exist is the station's business (entry points), and config
    # must not import devices/.
    if not isinstance(value, str) or not _SOURCE_SPEC.match(value.strip()):
        raise ValueError('must be a source spec of the form kind:argument, e.g. "sim:stable"')
    return value.strip()


# -- security (users issue) --
DEFAULT_IDLE_LOCK_S = 600.0
DEFAULT_MAX_FAILED_LOGINS = 5
DEFAULT_LOCKOUT_S = 900.0


def _check_idle_lock(value: object) -> float:
    if _is_number(value) and value == 0:
        return 0.0  # never lock on its own
    return _check_float_range(value, (30.0, 86_400.0), "seconds (or 0: never)")


def _check_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _check_max_failed_logins(value: object) -> int:
    if not (_is_int(value) and isinstance(value, int) and 3 <= value <= 20):
        raise ValueError("must be a whole number from 3 to 20")
    return value


def _check_lockout(value: object) -> float:
    return _check_float_range(value, (60.0, 86_400.0), "seconds")


# -- interop (interoperability issue) --
DEFAULT_INTEROP_NUMERICS_S = 60.0
DEFAULT_INTEROP_ACK_TIMEOUT_S = 10.0
DEFAULT_INTEROP_LINK_DOWN_S = 300.0
DEFAULT_INTEROP_FACILITY = "WARD"
_HOST_PORT = re.compile(r"^\[?([A-Za-z0-9_.:-]+?)\]?:(\d{1,5})$")


def _check_port(value: object) -> int:
    if not (_is_int(value) and isinstance(value, int) and 1 <= value <= 65535):
        raise ValueError("must be a port number from 1 to 65535")
    return value


def _check_host_port(value: object) -> str:
    match = _HOST_PORT.match(value.strip()) if isinstance(value, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 65535:
        raise ValueError('must be host:port, e.g. "mirth.hospital.local:6661"')
    return value.strip() if isinstance(value, str) else ""


def _check_url(value: object) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value.strip()):
        raise ValueError('must be an http:// or https:// URL, e.g. "https://fhir.hospital.local/r4"')
    return value.strip().rstrip("/")


def _check_interop_interval(value: object) -> float:
    return _check_float_range(value, (5.0, 3600.0), "seconds")


def _check_ack_timeout(value: object) -> float:
    return _check_float_range(value, (0.5, 300.0), "seconds")


def _check_link_down(value: object) -> float:
    return _check_float_range(value, (5.0, 86_400.0), "seconds")


def _check_facility(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_. -]{1,20}", value.strip()):
        raise ValueError("must be 1 to 20 letters, digits, spaces, '.', '_' or '-'")
    return value.strip()


# -- fleet (device-fleet issue) --
DEFAULT_FLEET_MISSING_AFTER_MIN = 60.0
DEFAULT_FLEET_SHIFT_HOURS = 12.0
# Days between two services per device type (a CGM's "service" is its sensor change).
DEFAULT_FLEET_MAINTENANCE_DAYS: tuple[tuple[str, float], ...] = (
    ("bedside-monitor", 365.0),
    ("blood-pressure-monitor", 365.0),
    ("cgm", 14.0),
    ("ecg-patch", 180.0),
    ("infusion-pump", 365.0),
    ("pulse-oximeter", 365.0),
    ("thermometer", 365.0),
)
_DEVICE_TYPE = re.compile(r"[a-z][a-z0-9-]{0,39}")


def _check_missing_after(value: object) -> float:
    return _check_float_range(value, (1.0, 43_200.0), "minutes")


def _check_shift_hours(value: object) -> float:
    return _check_float_range(value, (1.0, 24.0), "hours")


def _check_maintenance_days(value: object) -> tuple[tuple[str, float], ...]:
    """A table device type → days; types not given keep their default."""
    pairs = value.items() if isinstance(value, dict) else value
    if not isinstance(pairs, tuple | list) and not isinstance(value, dict):
        raise ValueError('must be a table of device type = days, e.g. { infusion-pump = 365 }')
    out = dict(DEFAULT_FLEET_MAINTENANCE_DAYS)
    for item in pairs:
        if not (isinstance(item, tuple | list) and len(item) == 2):
            raise ValueError("must be a table of device type = days")
        kind, days = item
        if not isinstance(kind, str) or not _DEVICE_TYPE.fullmatch(kind):
            raise ValueError(f"{kind!r} is not a device type such as infusion-pump")
        out[kind] = _raise_as_field(kind, lambda v: _check_float_range(v, (1.0, 3650.0), "days"), days)
    return tuple(sorted(out.items()))


def _check_device_specs(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError('must be a list of source specs, e.g. ["pump:heparin", "cgm:stable"]')
    return tuple(_check_source_spec(v) for v in value)


# -- mqtt (hospital-scale issue) --
DEFAULT_MQTT_SITE = "site"
DEFAULT_MQTT_KEEPALIVE_S = 5.0
DEFAULT_MQTT_SOUND = "all"
_MQTT_SLUG = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # the topic segment rule of app/hospital/topics.py


def _check_mqtt_url(value: object) -> str:
    if not isinstance(value, str) or not re.match(r"^mqtts?://[^\s/@]+(:\d{1,5})?/?$", value.strip()):
        raise ValueError('must be mqtt://host:port or mqtts://host:port, e.g. "mqtts://broker.hospital:8883"')
    return value.strip()


def _check_slug(value: object) -> str:
    if not isinstance(value, str) or not _MQTT_SLUG.fullmatch(value) or value == "_station":
        raise ValueError("must be 1 to 64 letters, digits, '_', '.' or '-' (no spaces or '/')")
    return value


def _check_username(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 128:
        raise ValueError("must be a non-empty user name")
    return value.strip()


def _check_keepalive(value: object) -> float:
    return _check_float_range(value, (1.0, 3600.0), "seconds")


def _check_sound(value: object) -> str:
    if value not in ("all", "high", "none"):
        raise ValueError('must be "all", "high" or "none"')
    return str(value)


# ---------------------------------------------------------------------------------------------------
# The configuration values


@dataclass(frozen=True, slots=True)
class BedConfig:
    """One bed position. `source` None means the station picks one (the simulator's ward mix)."""

    label: str
    source: str | None = None
    # further devices at the bed (pumps, glucose sensors); None: the simulator's mix for a simulated bed
    devices: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", _raise_as_field("label", _check_bed_label, self.label))
        if self.source is not None:
            object.__setattr__(self, "source", _raise_as_field("source", _check_source_spec, self.source))
        if self.devices is not None:
            object.__setattr__(self, "devices", _raise_as_field("devices", _check_device_specs, self.devices))


def default_bed(index: int) -> BedConfig:
    """Bed `index` (0-based) when nothing configures it."""
    return BedConfig(label=f"Bed {index + 1}")


@dataclass(frozen=True, slots=True)
class StationConfig:
    """Everything the station reads from its config file. Values are checked and normalised on creation.

    `beds` always holds exactly `bed_count` entries in ward order: shorter tuples are padded with
    `default_bed`, longer ones cut, so that changing `bed_count` (e.g. by a flag) keeps the ward coherent.
    """

    station_name: str = DEFAULT_STATION_NAME
    bed_count: int = DEFAULT_BED_COUNT
    display_fps: float = DEFAULT_DISPLAY_FPS
    beds: tuple[BedConfig, ...] = ()
    data_dir: Path | None = None  # None: the platform's user data dir, see resolve_data_dir
    nibp_interval_s: float = DEFAULT_NIBP_INTERVAL_S
    seed: int = DEFAULT_SEED
    waveform_hours: float = DEFAULT_WAVEFORM_HOURS
    trend_days: float = DEFAULT_TREND_DAYS
    # -- security (users issue) --
    idle_lock_s: float = DEFAULT_IDLE_LOCK_S  # the station locks after this long without input; 0: never
    mask_names_when_locked: bool = True
    max_failed_logins: int = DEFAULT_MAX_FAILED_LOGINS  # in a row, then the account is locked out
    lockout_s: float = DEFAULT_LOCKOUT_S
    # -- interop (interoperability issue) --
    interop_hl7_out: str | None = None  # "host:port" of the HL7 interface engine (PCD-01 numerics)
    interop_alarm_out: str | None = None  # "host:port" of the alarm manager (PCD-04); None: as hl7_out
    interop_hl7_in_port: int | None = None  # port of the inbound ADT listener
    interop_fhir_out: str | None = None  # FHIR base URL receiving transaction Bundles
    interop_numerics_interval_s: float = DEFAULT_INTEROP_NUMERICS_S
    interop_ack_timeout_s: float = DEFAULT_INTEROP_ACK_TIMEOUT_S
    interop_link_down_alarm_s: float = DEFAULT_INTEROP_LINK_DOWN_S
    interop_tls_ca_file: Path | None = None  # TLS on the MLLP links, trusting this CA
    interop_tls_cert_file: Path | None = None  # the station's certificate (inbound TLS, client auth)
    interop_tls_key_file: Path | None = None
    interop_facility: str = DEFAULT_INTEROP_FACILITY
    # -- fleet (device-fleet issue) --
    fleet_missing_after_min: float = DEFAULT_FLEET_MISSING_AFTER_MIN
    fleet_shift_hours: float = DEFAULT_FLEET_SHIFT_HOURS
    fleet_maintenance_days: tuple[tuple[str, float], ...] = DEFAULT_FLEET_MAINTENANCE_DAYS
    # -- deterioration (predictive-deterioration issue) --
    deterioration_enabled: bool = True
    deterioration_threshold_percent: float | None = None  # None: the threshold shipped with the model
    deterioration_tone: bool = False  # the advisory is silent unless a ward wants it heard
    # -- mqtt (hospital-scale issue) --
    mqtt_url: str | None = None  # "mqtt://host:1883" or "mqtts://host:8883"; None: not shared
    mqtt_ca_file: Path | None = None  # TLS: the CA that signed the broker's certificate
    mqtt_cert_file: Path | None = None  # TLS client certificate of this station (and its key)
    mqtt_key_file: Path | None = None
    mqtt_username: str | None = None
    mqtt_password_file: Path | None = None  # or the environment's WARDWATCH_MQTT_PASSWORD
    mqtt_site: str = DEFAULT_MQTT_SITE
    mqtt_ward: str | None = None  # None: the slug of the station name
    mqtt_keepalive_s: float = DEFAULT_MQTT_KEEPALIVE_S
    mqtt_sound: str = DEFAULT_MQTT_SOUND  # what a viewer sounds of remote alarms: all, high or none

    def __post_init__(self) -> None:
        for setting in _SETTINGS:
            value = getattr(self, setting.attribute)
            if value is None and setting.optional:
                continue
            object.__setattr__(
                self, setting.attribute, _raise_as_field(setting.attribute, setting.check, value)
            )
        beds = tuple(self.beds)
        if not all(isinstance(bed, BedConfig) for bed in beds):
            raise ValueError("beds: every entry must be a BedConfig")
        padding = tuple(default_bed(i) for i in range(len(beds), self.bed_count))
        object.__setattr__(self, "beds", beds[: self.bed_count] + padding)


def _raise_as_field(name: str, check: Callable[[object], Any], value: object) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise ValueError(f"{name} {value!r}: {exc}") from None


@dataclass(frozen=True, slots=True)
class _Setting:
    """One scalar key of the file and the StationConfig field it fills."""

    section: str
    key: str
    attribute: str
    check: Callable[[object], Any]
    what: str  # for messages about command-line values
    optional: bool = False  # None is a valid value meaning "decide at run time"

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.key}"


_SETTINGS: tuple[_Setting, ...] = (
    _Setting("station", "name", "station_name", _check_station_name, "station name"),
    _Setting("station", "bed_count", "bed_count", _check_bed_count, "bed count"),
    _Setting("station", "seed", "seed", _check_seed, "seed"),
    _Setting("display", "fps", "display_fps", _check_display_fps, "display rate"),
    _Setting("simulator", "nibp_interval_s", "nibp_interval_s", _check_nibp_interval, "NIBP interval"),
    _Setting("storage", "data_dir", "data_dir", _check_data_dir, "data directory", optional=True),
    _Setting("storage", "waveform_hours", "waveform_hours", _check_waveform_hours, "waveform retention"),
    _Setting("storage", "trend_days", "trend_days", _check_trend_days, "trend retention"),
    # -- security (users issue) --
    _Setting("security", "idle_lock_s", "idle_lock_s", _check_idle_lock, "idle lock time"),
    _Setting("security", "mask_names_when_locked", "mask_names_when_locked", _check_bool, "name masking"),
    _Setting("security", "max_failed_logins", "max_failed_logins", _check_max_failed_logins, "failed logins"),
    _Setting("security", "lockout_s", "lockout_s", _check_lockout, "lockout time"),
    # -- interop (interoperability issue) --
    _Setting("interop", "hl7_out", "interop_hl7_out", _check_host_port, "HL7 destination", optional=True),
    _Setting("interop", "alarm_out", "interop_alarm_out", _check_host_port, "alarm manager", optional=True),
    _Setting("interop", "hl7_in_port", "interop_hl7_in_port", _check_port, "HL7 inbound port", optional=True),
    _Setting("interop", "fhir_out", "interop_fhir_out", _check_url, "FHIR base URL", optional=True),
    _Setting(
        "interop", "numerics_interval_s", "interop_numerics_interval_s", _check_interop_interval, "interval"
    ),
    _Setting("interop", "ack_timeout_s", "interop_ack_timeout_s", _check_ack_timeout, "ACK timeout"),
    _Setting(
        "interop", "link_down_alarm_s", "interop_link_down_alarm_s", _check_link_down, "link-down alarm time"
    ),
    _Setting("interop", "tls_ca_file", "interop_tls_ca_file", _check_data_dir, "TLS CA file", optional=True),
    _Setting(
        "interop", "tls_cert_file", "interop_tls_cert_file", _check_data_dir, "TLS certificate", optional=True
    ),
    _Setting("interop", "tls_key_file", "interop_tls_key_file", _check_data_dir, "TLS key", optional=True),
    _Setting("interop", "facility", "interop_facility", _check_facility, "facility"),
    # -- fleet (device-fleet issue) --
    _Setting("fleet", "missing_after_min", "fleet_missing_after_min", _check_missing_after, "missing time"),
    _Setting("fleet", "shift_hours", "fleet_shift_hours", _check_shift_hours, "shift length"),
    _Setting("fleet", "maintenance_days", "fleet_maintenance_days", _check_maintenance_days, "intervals"),
    # -- deterioration (predictive-deterioration issue) --
    _Setting("deterioration", "enabled", "deterioration_enabled", _check_bool, "deterioration risk on/off"),
    _Setting(
        "deterioration",
        "threshold_percent",
        "deterioration_threshold_percent",
        lambda v: _check_float_range(v, (0.5, 90.0), "per cent"),
        "deterioration risk threshold",
        optional=True,
    ),
    _Setting("deterioration", "tone", "deterioration_tone", _check_bool, "deterioration advisory tone"),
    # -- mqtt (hospital-scale issue) --
    _Setting("mqtt", "url", "mqtt_url", _check_mqtt_url, "MQTT broker URL", optional=True),
    _Setting("mqtt", "ca_file", "mqtt_ca_file", _check_data_dir, "MQTT CA file", optional=True),
    _Setting("mqtt", "cert_file", "mqtt_cert_file", _check_data_dir, "MQTT certificate", optional=True),
    _Setting("mqtt", "key_file", "mqtt_key_file", _check_data_dir, "MQTT key", optional=True),
    _Setting("mqtt", "username", "mqtt_username", _check_username, "MQTT user", optional=True),
    _Setting(
        "mqtt", "password_file", "mqtt_password_file", _check_data_dir, "MQTT password file", optional=True
    ),
    _Setting("mqtt", "site", "mqtt_site", _check_slug, "MQTT site"),
    _Setting("mqtt", "ward", "mqtt_ward", _check_slug, "MQTT ward", optional=True),
    _Setting("mqtt", "keepalive_s", "mqtt_keepalive_s", _check_keepalive, "MQTT keep-alive"),
    _Setting("mqtt", "sound", "mqtt_sound", _check_sound, "remote alarm sound"),
)
_BED_SECTION = "bed"
_BED_KEYS = ("label", "source", "devices")
_DEFAULTS = StationConfig()


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """The configuration to run with, what was wrong with the file (for the user), and where it was."""

    config: StationConfig
    messages: tuple[str, ...]
    path: Path


# ---------------------------------------------------------------------------------------------------
# Schema migrations

Migration = Callable[[dict[str, Any]], dict[str, Any]]

# from-version → function turning a parsed document of that version into the next version's document.
# When SCHEMA_VERSION goes up, add one entry here; never edit an existing one, old files depend on it.
_MIGRATIONS: Mapping[int, Migration] = MappingProxyType({})


def _migrate(doc: dict[str, Any], version: int) -> dict[str, Any]:
    while version < SCHEMA_VERSION:
        doc = _MIGRATIONS[version](doc)
        version += 1
    return doc


# ---------------------------------------------------------------------------------------------------
# Where keys are in the text. tomllib gives positions only for syntax errors, so for a file that
# parsed, the line of a key is found by scanning the text again.

KeyPath = tuple[str | int, ...]

_MULTILINE_QUOTES = ('"""', "'''")


def _unquoted_index(text: str, targets: str) -> int:
    """Index of the first character of `targets` outside TOML quotes in `text`, or -1."""
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return -1
        elif ch in targets:
            return i
        i += 1
    return -1


def _key_parts(key_text: str) -> tuple[str, ...] | None:
    """Decode a (possibly dotted, quoted) TOML key; tomllib does the decoding so quoting rules match."""
    try:
        node: Any = tomllib.loads(f"{key_text} = 0")
    except tomllib.TOMLDecodeError:
        return None
    parts: list[str] = []
    while isinstance(node, dict) and len(node) == 1:
        name, node = next(iter(node.items()))
        parts.append(name)
    return tuple(parts) if parts else None


@dataclass(frozen=True, slots=True)
class _KeyLines:
    """1-based line of each key, table header and array-of-tables entry, by path (array index as int)."""

    lines: Mapping[KeyPath, int]

    @classmethod
    def scan(cls, text: str) -> _KeyLines:
        lines: dict[KeyPath, int] = {}
        table: KeyPath = ()
        array_index: dict[tuple[str, ...], int] = {}  # header parts → index of its latest entry
        array_count: dict[KeyPath, int] = {}  # resolved path of an array of tables → entries so far
        in_string = ""

        def resolve(parts: tuple[str, ...]) -> KeyPath:
            out: list[str | int] = []
            for n, part in enumerate(parts):
                out.append(part)
                if parts[: n + 1] in array_index:
                    out.append(array_index[parts[: n + 1]])
            return tuple(out)

        for number, raw in enumerate(text.splitlines(), start=1):
            if in_string:
                if in_string in raw:
                    in_string = ""
                continue
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("[["):
                end = _unquoted_index(line[2:], "]")
                parts = _key_parts(line[2 : 2 + end]) if end >= 0 else None
                if parts is None:
                    continue
                parent = (*resolve(parts[:-1]), parts[-1])
                index = array_count.get(parent, 0)
                array_count[parent] = index + 1
                array_index[parts] = index
                table = resolve(parts)
                lines.setdefault(table, number)
                continue
            if line.startswith("["):
                end = _unquoted_index(line[1:], "]")
                parts = _key_parts(line[1 : 1 + end]) if end >= 0 else None
                if parts is None:
                    continue
                table = resolve(parts)
                lines.setdefault(table, number)
                continue
            eq = _unquoted_index(line, "=")
            if eq < 0:
                continue
            parts = _key_parts(line[:eq])
            if parts is None:
                continue
            lines.setdefault(table + parts, number)
            value = line[eq + 1 :].lstrip()
            for quote in _MULTILINE_QUOTES:
                if value.startswith(quote) and quote not in value[3:]:
                    in_string = quote
        return cls(MappingProxyType(lines))

    def line_of(self, path: KeyPath) -> int | None:
        """Line of `path`, or of its nearest enclosing key or table (e.g. an inline table) if not found."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


# ---------------------------------------------------------------------------------------------------
# Reading the document


def _toml_repr(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def _default_repr(value: object) -> str:
    if isinstance(value, float):
        return _fmt_number(value)
    if value is None:
        return "the platform default"
    if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        return "{ " + ", ".join(f"{k} = {_default_repr(v)}" for k, v in value) + " }"
    return _toml_repr(value)


@dataclass(slots=True)
class _Reporter:
    """Collects messages that name the file and the line of the key concerned."""

    path: Path
    key_lines: _KeyLines
    found: list[tuple[int, str]] = field(default_factory=list)

    def at(self, key_path: KeyPath, text: str) -> None:
        line = self.key_lines.line_of(key_path)
        where = f"Config file {self.path}" + (f", line {line}" if line is not None else "")
        self.found.append((line or 0, f"{where}: {text}"))

    def messages(self) -> tuple[str, ...]:
        # in file order, so that someone fixing the file can work from top to bottom
        return tuple(text for _, text in sorted(self.found, key=lambda item: item[0]))


def _unknown_keys(
    report: _Reporter,
    table: Mapping[str, Any],
    known: Sequence[str],
    prefix: KeyPath,
    *,
    key_prefix: str = "",
    context: str = "",
) -> None:
    for key in table:
        if key in known:
            continue
        hint = get_close_matches(key, known, n=1)
        if hint:
            suggestion = f"; did you mean {key_prefix}{hint[0]}?"
        else:
            suggestion = f" (known keys: {', '.join(key_prefix + k for k in known)})"
        report.at((*prefix, key), f"{context}unknown key {key_prefix}{key} is ignored{suggestion}")


def _section(report: _Reporter, doc: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = doc.get(name, {})
    if isinstance(value, dict):
        return value
    report.at((name,), f"{name} must be a [{name}] section, not {_toml_repr(value)}; using its defaults")
    return {}


def _read_schema_version(report: _Reporter, doc: Mapping[str, Any]) -> int:
    # A hand-written file may leave the version out; it is then read as the current version.
    version = doc.get("schema_version", SCHEMA_VERSION)
    if not (_is_int(version) and isinstance(version, int) and version >= 1):
        report.at(
            ("schema_version",),
            f"schema_version = {_toml_repr(version)} must be a whole number of 1 or more; "
            f"reading the file as version {SCHEMA_VERSION}",
        )
        return SCHEMA_VERSION
    if version > SCHEMA_VERSION:
        report.at(
            ("schema_version",),
            f"schema_version = {version} is from a newer WardWatch (this one reads {SCHEMA_VERSION}); "
            "keys it does not know are ignored",
        )
        return SCHEMA_VERSION
    return version


def _read_beds(report: _Reporter, doc: Mapping[str, Any], bed_count: int) -> tuple[BedConfig, ...]:
    entries = doc.get(_BED_SECTION, [])
    if not isinstance(entries, list):
        report.at(
            (_BED_SECTION,),
            f"{_BED_SECTION} must be a list of [[{_BED_SECTION}]] entries, not {_toml_repr(entries)}; "
            "using the default beds",
        )
        return ()
    if len(entries) > bed_count:
        ignored = (
            f"entry {len(entries)} is ignored"
            if len(entries) == bed_count + 1
            else f"entries {bed_count + 1} to {len(entries)} are ignored"
        )
        report.at(
            (_BED_SECTION, bed_count),
            f"{len(entries)} [[{_BED_SECTION}]] entries but station.bed_count is {bed_count}; {ignored}",
        )
    beds: list[BedConfig] = []
    for index, entry in enumerate(entries[:bed_count]):
        fallback = default_bed(index)
        where: KeyPath = (_BED_SECTION, index)
        if not isinstance(entry, dict):
            report.at(
                where, f"bed entry {index + 1} must be a table, not {_toml_repr(entry)}; using defaults"
            )
            beds.append(fallback)
            continue
        _unknown_keys(report, entry, _BED_KEYS, where, context=f"bed entry {index + 1}: ")
        label = fallback.label
        if "label" in entry:
            try:
                label = _check_bed_label(entry["label"])
            except ValueError as exc:
                report.at(
                    (*where, "label"),
                    f"bed entry {index + 1}: label = {_toml_repr(entry['label'])} is not allowed ({exc}); "
                    f"using {_toml_repr(label)}",
                )
        source: str | None = None
        if "source" in entry:
            try:
                source = _check_source_spec(entry["source"])
            except ValueError as exc:
                report.at(
                    (*where, "source"),
                    f"bed entry {index + 1}: source = {_toml_repr(entry['source'])} is not allowed ({exc}); "
                    "the station picks the source",
                )
        devices: tuple[str, ...] | None = None
        if "devices" in entry:
            try:
                devices = _check_device_specs(entry["devices"])
            except ValueError as exc:
                report.at(
                    (*where, "devices"),
                    f"bed entry {index + 1}: devices = {_toml_repr(entry['devices'])} is not allowed "
                    f"({exc}); the bed gets no further devices",
                )
                devices = ()
        beds.append(BedConfig(label=label, source=source, devices=devices))
    return tuple(beds)


def _report_duplicate_labels(report: _Reporter, beds: Sequence[BedConfig]) -> None:
    # Two tiles with one name make an alarm ambiguous; it is worth a message, not worth refusing to start.
    first_seen: dict[str, int] = {}
    for index, bed in enumerate(beds):
        key = bed.label.casefold()
        if key in first_seen:
            report.at(
                (_BED_SECTION, index, "label"),
                f"bed {index + 1} has the same label {_toml_repr(bed.label)} as bed {first_seen[key] + 1}; "
                "give every bed its own label",
            )
        else:
            first_seen[key] = index


def parse_config(text: str, path: Path) -> LoadedConfig:
    """Read configuration text that came from `path` (used in messages and for relative paths)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return LoadedConfig(_DEFAULTS, (_syntax_message(path, text, exc),), path)

    report = _Reporter(path, _KeyLines.scan(text))
    doc = _migrate(doc, _read_schema_version(report, doc))

    sections = tuple(dict.fromkeys(s.section for s in _SETTINGS))
    known_top = ("schema_version", *sections, _BED_SECTION)
    for key in doc:
        if key not in known_top:
            shown = f"section [{key}]" if isinstance(doc[key], dict) else f"key {key}"
            hint = get_close_matches(key, known_top, n=1)
            suggestion = f"; did you mean {hint[0]}?" if hint else ""
            report.at((key,), f"unknown {shown} is ignored{suggestion}")

    values: dict[str, Any] = {}
    for name in sections:
        table = _section(report, doc, name)
        settings = [s for s in _SETTINGS if s.section == name]
        _unknown_keys(report, table, [s.key for s in settings], (name,), key_prefix=f"{name}.")
        for setting in settings:
            if setting.key not in table:
                continue
            raw = table[setting.key]
            try:
                values[setting.attribute] = setting.check(raw)
            except ValueError as exc:
                default = getattr(_DEFAULTS, setting.attribute)
                report.at(
                    (name, setting.key),
                    f"{setting.dotted} = {_toml_repr(raw)} is not allowed ({exc}); "
                    f"using the default {_default_repr(default)}",
                )

    data_dir = values.get("data_dir")
    if isinstance(data_dir, Path) and not data_dir.is_absolute():
        # relative to the file, so that the meaning does not change with the directory the station starts in
        values["data_dir"] = path.parent / data_dir

    bed_count = values.get("bed_count", DEFAULT_BED_COUNT)
    config = StationConfig(**values, beds=_read_beds(report, doc, bed_count))
    _report_duplicate_labels(report, config.beds)
    return LoadedConfig(config, report.messages(), path)


_ERROR_POSITION = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)\s*$")


def _syntax_message(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> str:
    # Python 3.11's TOMLDecodeError carries its position only inside the message text.
    reason = str(exc)
    match = _ERROR_POSITION.search(reason)
    if match is None:
        where = f"Config file {path}"
    elif match.group(1) is None:
        where = f"Config file {path}, line {max(1, len(text.splitlines()))} (end of file)"
        reason = reason[: match.start()]
    else:
        where = f"Config file {path}, line {match.group(1)}"
        reason = f"{reason[: match.start()]} (column {match.group(2)})"
    return f"{where}: {reason} — starting on defaults"


# ---------------------------------------------------------------------------------------------------
# Files and directories


def default_config_path() -> Path:
    """The config file: $WARDWATCH_CONFIG if set, otherwise wardwatch.toml in the user config dir."""
    override = os.environ.get(CONFIG_PATH_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILE_NAME


def load_config(path: Path | None = None) -> LoadedConfig:
    """Read the config file; never raises for a bad file. A missing file simply means the defaults."""
    path = default_config_path() if path is None else path
    if path.is_dir():
        message = f"Config file {path} is a directory, not a file — starting on defaults"
        return LoadedConfig(_DEFAULTS, (message,), path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return LoadedConfig(_DEFAULTS, (), path)
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        message = f"Cannot read config file {path}: {reason} — starting on defaults"
        return LoadedConfig(_DEFAULTS, (message,), path)
    try:
        # utf-8-sig: Windows editors may save a byte-order mark, which is harmless but not TOML
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start]
        message = (
            f"Config file {path}, line {line}: not UTF-8 text (byte 0x{bad:02x}); "
            "save it as UTF-8 — starting on defaults"
        )
        return LoadedConfig(_DEFAULTS, (message,), path)
    return parse_config(text, path)


def defaults_text() -> str:
    """The shipped, commented default configuration (resources/defaults.toml)."""
    return resources.files("wardwatch.resources").joinpath("defaults.toml").read_text(encoding="utf-8")


def write_default_config(path: Path) -> None:
    """Copy the commented defaults to `path`, unless a file is already there (it is never overwritten)."""
    data = resources.files("wardwatch.resources").joinpath("defaults.toml").read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # exclusive create: an existing config is left alone even if it appears between check and write
        with path.open("xb") as out:
            out.write(data)
    except FileExistsError:
        return


def resolve_data_dir(config: StationConfig) -> Path:
    """Where recordings and trends go: the configured dir, or the platform's user data dir."""
    if config.data_dir is not None:
        return config.data_dir
    return Path(platformdirs.user_data_dir(APP_NAME))


def resolve_beds(
    config: StationConfig, default_sources: Callable[[int], Sequence[str]]
) -> tuple[BedConfig, ...]:
    """The ward with every source decided: beds without one take theirs from `default_sources(bed_count)`.

    `default_sources` is the simulator's ward mix; it is passed in because config must not import devices/.
    """
    mix = list(default_sources(config.bed_count))
    if len(mix) != config.bed_count:
        raise ValueError(f"default_sources({config.bed_count}) returned {len(mix)} sources")
    return tuple(
        bed if bed.source is not None else BedConfig(label=bed.label, source=source, devices=bed.devices)
        for bed, source in zip(config.beds, mix, strict=True)
    )


# ---------------------------------------------------------------------------------------------------
# Command line


def apply_overrides(
    config: StationConfig,
    *,
    station_name: str | None = None,
    bed_count: int | None = None,
    display_fps: float | None = None,
    data_dir: Path | None = None,
    seed: int | None = None,
) -> StationConfig:
    """`config` with the given command-line values (None = flag not given); bad values raise ValueError."""
    given: dict[str, object] = {
        "station_name": station_name,
        "bed_count": bed_count,
        "display_fps": display_fps,
        "data_dir": data_dir,
        "seed": seed,
    }
    changes: dict[str, Any] = {}
    for setting in _SETTINGS:
        value = given.get(setting.attribute)
        if value is None:
            continue
        try:
            changes[setting.attribute] = setting.check(value)
        except ValueError as exc:
            raise ValueError(f"invalid {setting.what} {value!r}: {exc}") from None
    if "data_dir" in changes:
        # absolute now, so that a later change of working directory cannot move the recordings
        changes["data_dir"] = changes["data_dir"].absolute()
    return replace(config, **changes)
