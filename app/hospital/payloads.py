"""JSON payloads of hospital-wide sharing, version 1 (docs/hospital.md): dataclasses in, bytes out, and back.

Pure functions. Decoding never trusts its input: the size is checked before parsing, the version must be
one this code knows, every field is type-checked, unknown extra keys are ignored (a newer sender may add
some), and any problem raises one `PayloadError` whose message says what was wrong (never the payload
itself, which may carry patient data).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

VERSION = 1
EVENT_MAX_BYTES = 64 * 1024  # every JSON payload
WAVES_MAX_BYTES = 512 * 1024  # a CBOR waves message (waves_codec)
TEXT_MAX = 2048  # one text field
LIST_MAX = 512  # one list field (numerics values, active alarms, conditions, factors)

ALARM_ACTIONS = frozenset(
    {"raised", "held_back", "released", "escalated", "acknowledged", "condition_ended", "cleared"}
)
NEWS2_BANDS = frozenset({"low", "low-medium", "medium", "high"})
STATION_STATES = frozenset({"online", "offline"})
ALL_ALARMS = (0, "*")  # alarm_id 0 with key "*" in an ack: every alarm of the bed
# A time field must lie in this window: a clock in milliseconds (1.7e12) or a zeroed clock is a sender's
# bug, and the viewer would keep it as a station's newest time and fail to write it as a clock time.
TIME_MIN = 946_684_800.0  # 2000-01-01T00:00:00Z
TIME_AHEAD_S = 86_400.0  # at most a day ahead of this machine's clock (station clocks drift, not by days)


class PayloadError(ValueError):
    """A payload that cannot be accepted; the message names the reason (never the payload's content)."""


# -- field readers -------------------------------------------------------------------------------------
def _get(d: Mapping[str, Any], key: str) -> Any:
    if key not in d:
        raise PayloadError(f"missing field {key!r}")
    return d[key]


def _text(d: Mapping[str, Any], key: str, *, optional: bool = False, limit: int = TEXT_MAX) -> Any:
    value = d.get(key) if optional else _get(d, key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"field {key!r} must be text")
    if len(value) > limit:
        raise PayloadError(f"field {key!r} is longer than {limit} characters")
    return value


def _number(d: Mapping[str, Any], key: str, *, optional: bool = False) -> Any:
    value = d.get(key) if optional else _get(d, key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PayloadError(f"field {key!r} must be a finite number")
    return float(value)


def check_time(value: float, key: str) -> float:
    """`value` (seconds since the epoch) if it lies between 2000-01-01 and a day from now; PayloadError
    otherwise."""
    if not TIME_MIN <= value <= time.time() + TIME_AHEAD_S:
        raise PayloadError(f"field {key!r} is not a plausible time (seconds since 2000, at most a day ahead)")
    return value


def _time(d: Mapping[str, Any], key: str, *, optional: bool = False) -> Any:
    value = _number(d, key, optional=optional)
    return None if value is None else check_time(value, key)


def _integer(d: Mapping[str, Any], key: str, *, optional: bool = False) -> Any:
    value = d.get(key) if optional else _get(d, key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"field {key!r} must be a whole number")
    return value


def _flag(d: Mapping[str, Any], key: str) -> bool:
    value = _get(d, key)
    if not isinstance(value, bool):
        raise PayloadError(f"field {key!r} must be true or false")
    return value


def _items(d: Mapping[str, Any], key: str) -> list[Any]:
    value = _get(d, key)
    if not isinstance(value, list):
        raise PayloadError(f"field {key!r} must be a list")
    if len(value) > LIST_MAX:
        raise PayloadError(f"field {key!r} has more than {LIST_MAX} entries")
    return value


def _table(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{what} must be a JSON object")
    return value


def _one_of(value: str | None, allowed: frozenset[str], key: str) -> Any:
    if value is not None and value not in allowed:
        raise PayloadError(f"field {key!r} must be one of {', '.join(sorted(allowed))}")
    return value


def _t(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


# -- the payloads ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PatientInfo:
    """Who is in the bed (personal health information: it goes only to the broker, never to a log)."""

    name: str
    mrn: str
    age: int | None = None
    sex: str | None = None

    def __repr__(self) -> str:  # never leak PHI into logs or tracebacks
        return "PatientInfo(<masked>)"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "mrn": self.mrn, "age": self.age, "sex": self.sex}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> PatientInfo:
        return cls(
            _text(d, "name"),
            _text(d, "mrn"),
            _integer(d, "age", optional=True),
            _text(d, "sex", optional=True),
        )


@dataclass(frozen=True, slots=True)
class BedInfo:
    """`.../<bed>/info`: the bed, its patient and its device (retained; on change and at connect)."""

    KIND: ClassVar[str] = "info"
    station: str
    bed: str
    label: str
    patient: PatientInfo | None
    device: str | None
    t: float

    def to_json(self) -> dict[str, Any]:
        return {
            "station": self.station,
            "bed": self.bed,
            "label": self.label,
            "patient": None if self.patient is None else self.patient.to_json(),
            "device": self.device,
            "t": _t(self.t),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> BedInfo:
        patient = d.get("patient")
        return cls(
            _text(d, "station"),
            _text(d, "bed", limit=64),
            _text(d, "label"),
            None if patient is None else PatientInfo.from_json(_table(patient, "patient")),
            _text(d, "device", optional=True),
            _time(d, "t"),
        )


@dataclass(frozen=True, slots=True)
class NumericValue:
    code: int  # MDC code
    label: str
    value: float
    unit: str
    t: float

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "value": self.value,
            "unit": self.unit,
            "t": _t(self.t),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> NumericValue:
        return cls(
            _integer(d, "code"), _text(d, "label"), _number(d, "value"), _text(d, "unit"), _time(d, "t")
        )


@dataclass(frozen=True, slots=True)
class Numerics:
    """`.../<bed>/numerics`: the bed's latest fresh value per code (1 Hz, QoS 0, retained)."""

    KIND: ClassVar[str] = "numerics"
    t: float
    values: tuple[NumericValue, ...]

    def to_json(self) -> dict[str, Any]:
        return {"t": _t(self.t), "values": [v.to_json() for v in self.values]}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Numerics:
        values = tuple(NumericValue.from_json(_table(v, "a numeric value")) for v in _items(d, "values"))
        return cls(_time(d, "t"), values)


@dataclass(frozen=True, slots=True)
class AlarmEventInfo:
    """What happened to one alarm (an alarm journal line)."""

    action: str  # one of ALARM_ACTIONS
    alarm_id: int | None
    key: str
    priority: str | None  # "high" | "medium" | "low"
    user: str
    detail: str
    time: float

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "alarm_id": self.alarm_id,
            "key": self.key,
            "priority": self.priority,
            "user": self.user,
            "detail": self.detail,
            "time": _t(self.time),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> AlarmEventInfo:
        return cls(
            _one_of(_text(d, "action"), ALARM_ACTIONS, "action"),
            _integer(d, "alarm_id", optional=True),
            _text(d, "key"),
            _one_of(_text(d, "priority", optional=True), PRIORITIES, "priority"),
            _text(d, "user"),
            _text(d, "detail"),
            _time(d, "time"),
        )


PRIORITIES = frozenset({"high", "medium", "low"})


@dataclass(frozen=True, slots=True)
class AlarmState:
    """One alarm of a bed as it stands (shown or held back)."""

    alarm_id: int
    key: str
    category: str
    priority: str
    state: str  # "active" | "acknowledged" | "latched" | "held_back"
    message: str
    raised_at: float
    condition_since: float
    escalated_at: float | None = None
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None
    reason: str = ""
    audible: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "alarm_id": self.alarm_id,
            "key": self.key,
            "category": self.category,
            "priority": self.priority,
            "state": self.state,
            "message": self.message,
            "raised_at": _t(self.raised_at),
            "condition_since": _t(self.condition_since),
            "escalated_at": _t(self.escalated_at),
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": _t(self.acknowledged_at),
            "reason": self.reason,
            "audible": self.audible,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> AlarmState:
        return cls(
            _integer(d, "alarm_id"),
            _text(d, "key"),
            _text(d, "category"),
            _one_of(_text(d, "priority"), PRIORITIES, "priority"),
            _text(d, "state"),
            _text(d, "message"),
            _time(d, "raised_at"),
            _time(d, "condition_since"),
            _time(d, "escalated_at", optional=True),
            _text(d, "acknowledged_by", optional=True),
            _time(d, "acknowledged_at", optional=True),
            _text(d, "reason"),
            _flag(d, "audible"),
        )


@dataclass(frozen=True, slots=True)
class BedAlarms:
    """`.../<bed>/alarms`: one alarm event (or None: the state at connect) and the bed's full alarm list
    after it (retained, so the retained message is the bed's current alarm state). `id` is
    "<site>/<ward>:<run-id>:<seq>", unique and increasing within a run (receivers de-duplicate by it)."""

    KIND: ClassVar[str] = "alarms"
    id: str
    t: float
    event: AlarmEventInfo | None
    active: tuple[AlarmState, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "t": _t(self.t),
            "event": None if self.event is None else self.event.to_json(),
            "active": [a.to_json() for a in self.active],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> BedAlarms:
        event = d.get("event")
        return cls(
            _text(d, "id", limit=256),
            _time(d, "t"),
            None if event is None else AlarmEventInfo.from_json(_table(event, "event")),
            tuple(AlarmState.from_json(_table(a, "an alarm")) for a in _items(d, "active")),
        )


@dataclass(frozen=True, slots=True)
class News2:
    """`.../<bed>/news2`: the bed's NEWS2 (score None: not known)."""

    KIND: ClassVar[str] = "news2"
    t: float
    score: int | None
    band: str | None  # one of NEWS2_BANDS
    complete: bool
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "t": _t(self.t),
            "score": self.score,
            "band": self.band,
            "complete": self.complete,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> News2:
        return cls(
            _time(d, "t"),
            _integer(d, "score", optional=True),
            _one_of(_text(d, "band", optional=True), NEWS2_BANDS, "band"),
            _flag(d, "complete"),
            _text(d, "detail", optional=True) or "",
        )


@dataclass(frozen=True, slots=True)
class Risk:
    """`.../<bed>/risk`: the deterioration risk (0-1; None: not known) against its threshold."""

    KIND: ClassVar[str] = "risk"
    t: float
    risk: float | None
    threshold: float | None
    above: bool
    factors: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "t": _t(self.t),
            "risk": self.risk,
            "threshold": self.threshold,
            "above": self.above,
            "factors": list(self.factors),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Risk:
        factors = _items(d, "factors") if "factors" in d else []
        if not all(isinstance(f, str) and len(f) <= TEXT_MAX for f in factors):
            raise PayloadError("field 'factors' must be a list of texts")
        return cls(
            _time(d, "t"),
            _number(d, "risk", optional=True),
            _number(d, "threshold", optional=True),
            _flag(d, "above"),
            tuple(factors),
        )


@dataclass(frozen=True, slots=True)
class Condition:
    kind: str  # a TechnicalKind value
    detail: str
    since: float

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "detail": self.detail, "since": _t(self.since)}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Condition:
        return cls(_text(d, "kind", limit=64), _text(d, "detail"), _time(d, "since"))


@dataclass(frozen=True, slots=True)
class Technical:
    """`.../<bed>/technical`: the device link state and the bed's active technical conditions."""

    KIND: ClassVar[str] = "technical"
    t: float
    link: str | None
    conditions: tuple[Condition, ...]

    def to_json(self) -> dict[str, Any]:
        return {"t": _t(self.t), "link": self.link, "conditions": [c.to_json() for c in self.conditions]}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Technical:
        return cls(
            _time(d, "t"),
            _text(d, "link", optional=True, limit=64),
            tuple(Condition.from_json(_table(c, "a condition")) for c in _items(d, "conditions")),
        )


@dataclass(frozen=True, slots=True)
class StationStatus:
    """`.../_station/status`: "online" at connect and every 2 s, "offline" at a clean stop and as the
    last will."""

    KIND: ClassVar[str] = "status"
    station: str
    state: str  # "online" | "offline"
    t: float
    beds: tuple[str, ...]
    version: str

    def to_json(self) -> dict[str, Any]:
        return {
            "station": self.station,
            "state": self.state,
            "t": _t(self.t),
            "beds": list(self.beds),
            "version": self.version,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> StationStatus:
        beds = _items(d, "beds")
        if not all(isinstance(b, str) and len(b) <= 64 for b in beds):
            raise PayloadError("field 'beds' must be a list of bed ids")
        return cls(
            _text(d, "station"),
            _one_of(_text(d, "state"), STATION_STATES, "state"),
            _time(d, "t"),
            tuple(beds),
            _text(d, "version", limit=64),
        )


@dataclass(frozen=True, slots=True)
class AckRequest:
    """`.../<bed>/ack`: a viewer's user asks the owning station to acknowledge an alarm
    (alarm_id 0 and key "*": every alarm of the bed)."""

    KIND: ClassVar[str] = "ack"
    id: str  # a UUID, answered in AckResult.request
    alarm_id: int
    key: str
    user: str
    role: str
    viewer: str
    t: float

    @property
    def all_alarms(self) -> bool:
        return (self.alarm_id, self.key) == ALL_ALARMS

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "alarm_id": self.alarm_id,
            "key": self.key,
            "user": self.user,
            "role": self.role,
            "viewer": self.viewer,
            "t": _t(self.t),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> AckRequest:
        request = cls(
            _text(d, "id", limit=128),
            _integer(d, "alarm_id"),
            _text(d, "key", limit=256),
            _text(d, "user", limit=128),
            _text(d, "role", limit=64),
            _text(d, "viewer", limit=128),
            _time(d, "t"),
        )
        if not request.id or not request.user or not request.viewer:
            raise PayloadError("fields 'id', 'user' and 'viewer' must not be empty")
        if request.alarm_id < 0 or (request.alarm_id == 0 and request.key != "*"):
            raise PayloadError("field 'alarm_id' must be positive (or 0 with key '*')")
        return request


@dataclass(frozen=True, slots=True)
class AckResult:
    """`.../<bed>/ack/result`: the owning station's answer to an AckRequest."""

    KIND: ClassVar[str] = "ack_result"
    request: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"request": self.request, "ok": self.ok, "detail": self.detail}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> AckResult:
        return cls(_text(d, "request", limit=128), _flag(d, "ok"), _text(d, "detail"))


@dataclass(frozen=True, slots=True)
class WavesWant:
    """`.../<bed>/waves/want`: a viewer's lease; the station streams the bed's waves until `until`
    (capped at now + 30 s by the station)."""

    KIND: ClassVar[str] = "waves_want"
    viewer: str
    until: float

    def to_json(self) -> dict[str, Any]:
        return {"viewer": self.viewer, "until": _t(self.until)}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> WavesWant:
        return cls(_text(d, "viewer", limit=128), _time(d, "until"))


Payload = (
    BedInfo
    | Numerics
    | BedAlarms
    | News2
    | Risk
    | Technical
    | StationStatus
    | AckRequest
    | AckResult
    | WavesWant
)
PAYLOAD_TYPES: tuple[type[Any], ...] = (
    BedInfo,
    Numerics,
    BedAlarms,
    News2,
    Risk,
    Technical,
    StationStatus,
    AckRequest,
    AckResult,
    WavesWant,
)
_BY_KIND: dict[str, Callable[[Mapping[str, Any]], Any]] = {cls.KIND: cls.from_json for cls in PAYLOAD_TYPES}
P = TypeVar("P")


def _reject_constant(name: str) -> float:
    raise PayloadError(f"{name} is not a number JSON allows")


# -- encoding and decoding -------------------------------------------------------------------------------
def encode(payload: Payload) -> bytes:
    """The payload as compact UTF-8 JSON with `"v"` and `"kind"`; PayloadError if over EVENT_MAX_BYTES
    or if a number is not finite."""
    body = {"v": VERSION, "kind": payload.KIND, **payload.to_json()}
    try:
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except ValueError as exc:
        raise PayloadError(f"{payload.KIND} cannot be encoded: {exc}") from None
    if len(data) > EVENT_MAX_BYTES:
        raise PayloadError(f"{payload.KIND} payload of {len(data)} bytes is over {EVENT_MAX_BYTES}")
    return data


def decode(data: bytes) -> Payload:
    """Any JSON payload of version 1, by its `"kind"`; PayloadError with the reason otherwise."""
    if len(data) > EVENT_MAX_BYTES:
        raise PayloadError(f"payload of {len(data)} bytes is over {EVENT_MAX_BYTES}")
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise PayloadError("payload is not UTF-8 text") from None
    except RecursionError:
        raise PayloadError("payload is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise PayloadError(f"payload is not JSON ({exc.msg} at position {exc.pos})") from None
    d = _table(doc, "payload")
    version = d.get("v")
    if isinstance(version, bool) or not isinstance(version, int):
        raise PayloadError("payload has no version 'v'")
    if version != VERSION:
        raise PayloadError(f"payload version {version} is not known (this station reads {VERSION})")
    kind = d.get("kind")
    parse = _BY_KIND.get(kind) if isinstance(kind, str) else None
    if parse is None:
        raise PayloadError("payload kind is missing or not known")
    try:
        payload: Payload = parse(d)
    except RecursionError:
        raise PayloadError("payload is nested too deeply") from None
    return payload


def decode_as(data: bytes, cls: type[P]) -> P:
    """`decode`, and PayloadError unless the payload is of the kind `cls` (an AckRequest on an ack topic)."""
    payload = decode(data)
    if not isinstance(payload, cls):
        raise PayloadError(f"expected a {getattr(cls, 'KIND', cls.__name__)} payload, got {payload.KIND}")
    return payload


def kinds() -> Sequence[str]:
    """Every payload kind this version knows."""
    return tuple(_BY_KIND)
