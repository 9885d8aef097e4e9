"""IntelliVue Data Export messages (all big-endian): what a monitor sends, read into numerics.

Session PDUs (association accept, refuse, release, abort) are recognised by their first byte; data PDUs
are `E1 00` · presentation context · ROapdus (invoke, result, error, linked result) · command. Numerics
come in the poll replies of a confirmed action (single or extended MDIB poll): a list of contexts, each
a list of objects, each an attribute list in which `NuObsValue` (0x0950) and the compound
`NuObsValueCmp` (0x094B) carry physio id, measurement state, unit and an 11073 FLOAT; wave objects carry
sample arrays whose spec, scale and period the caller keeps between messages (waves.py). Every nested
length is checked against the bytes that are really there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from wardwatch.devices.decoded import Decoded, DecodeError, Fields, State
from wardwatch.devices.intellivue import waves
from wardwatch.devices.intellivue.association import KINDS as SESSION
from wardwatch.devices.intellivue.association import SessionPdu, decode_session
from wardwatch.devices.intellivue.framing import PROTOCOL, deframe
from wardwatch.devices.intellivue.waves import WaveSpec
from wardwatch.devices.mder import float32

RO_TYPES = {1: "invoke", 2: "result", 3: "error", 5: "linked result"}
CMD_EVENT_REPORT, CMD_CONFIRMED_EVENT_REPORT, CMD_CONFIRMED_ACTION = 0, 1, 7
ACT_POLL, ACT_POLL_EXT = 0x0C16, 0xF13B
NOTI_MDS_CREATE = 0x0D06
ATTR_NU_VAL_OBS, ATTR_NU_CMPD_VAL_OBS = 0x0950, 0x094B

# physio id (partition 2 term) → label; ../shared/PROTOCOLS.md §2
LABELS = {
    0x4182: "HR",
    0x4BB8: "SpO2",
    0x4822: "PR",
    0x480A: "PR",
    0x500A: "RR",
    0x4A05: "NIBP sys",
    0x4A06: "NIBP dia",
    0x4A07: "NIBP mean",
    0x4A11: "ABP sys",
    0x4A12: "ABP dia",
    0x4A13: "ABP mean",
    0x4B48: "Temp",
    0x4BB0: "PI",
}
# unit term (partition 4) → UCUM
UNITS = {
    0x0AA0: "/min",
    0x0AE0: "/min",
    0x0220: "%",
    0x0F20: "mm[Hg]",
    0x0F03: "kPa",
    0x17A0: "Cel",
    0x0200: "1",
}
_STATE_BITS = (
    (0x8000, State.INVALID),
    (0x2000, State.UNAVAILABLE),
    (0x0800, State.DEMO),
    (0x0400, State.DEMO),
    (0x1000, State.CALIBRATING),
    (0x4000, State.QUESTIONABLE),
)


@dataclass(slots=True)
class Message:
    kind: str  # e.g. "association accepted", "mds create event", "poll result"
    invoke_id: int | None = None
    values: list[Decoded] = field(default_factory=list)
    ro_type: int | None = None  # 1 invoke, 2 result, 3 error, 5 linked result
    linked_state: int | None = None  # of a linked result: 1 first, 2 middle, 3 last
    session: SessionPdu | None = None
    specs: dict[int, WaveSpec] = field(default_factory=dict)  # wave specs this message set, by handle
    problems: list[DecodeError] = field(default_factory=list)  # parts dropped, the rest decoded


@dataclass(slots=True)
class _Reading:
    """What one poll reply's walk collects besides the values."""

    known: Mapping[int, WaveSpec]
    specs: dict[int, WaveSpec] = field(default_factory=dict)
    problems: list[DecodeError] = field(default_factory=list)


def measurement_state(bits: int) -> State:
    for mask, state in _STATE_BITS:
        if bits & mask:
            return state
    return State.VALID


def _nu_value(c: Fields, handle: int, details: dict[str, object]) -> Decoded:
    physio = c.u16("physio id")
    state_bits = c.u16("measurement state")
    unit = c.u16("unit code")
    number = float32(c.u32("value"))
    state = number.state if number.state is not State.VALID else measurement_state(state_bits)
    return Decoded(
        2 * 65536 + physio,
        LABELS.get(physio, f"MDC {2 * 65536 + physio}"),
        number.value,
        UNITS.get(unit, ""),
        4 * 65536 + unit,
        state,
        details={**details, "handle": handle, "measurement_state": f"{state_bits:04X}"},
        decimals=number.decimals if number.value is not None else None,
    )


def _attributes(c: Fields, handle: int, details: dict[str, object], reading: _Reading) -> list[Decoded]:
    count = c.u16("attribute count")
    attrs = c.sub(c.u16("attribute list length"), "attribute list")
    out = []
    spec = reading.specs.get(handle) or reading.known.get(handle) or WaveSpec()
    wave = False
    arrays: list[waves.RawArray] = []
    for _ in range(count):
        attr_id = attrs.u16("attribute id")
        value = attrs.sub(attrs.u16("attribute length"), f"attribute {attr_id:#06x}")
        if attr_id == ATTR_NU_VAL_OBS:
            out.append(_nu_value(value, handle, details))
        elif attr_id == ATTR_NU_CMPD_VAL_OBS:
            n = value.u16("compound count")
            inner = value.sub(value.u16("compound length"), "compound value")
            out += [_nu_value(inner, handle, details) for _ in range(n)]
        elif attr_id in waves.WAVE_ATTRIBUTES and attr_id != waves.ATTR_UNIT_CODE:
            wave = True
            spec = waves.read_attribute(attr_id, value, spec, arrays)
        elif attr_id == waves.ATTR_UNIT_CODE:
            spec = waves.read_attribute(attr_id, value, spec, arrays)
    if not wave:
        return out
    if spec != reading.known.get(handle):
        reading.specs[handle] = spec
    for array in arrays:
        try:
            out.append(waves.to_decoded(array, spec, handle, measurement_state(array.state), details))
        except DecodeError as exc:
            reading.problems.append(exc)
    return out


def _poll_reply(c: Fields, extended: bool, reading: _Reading) -> list[Decoded]:
    details: dict[str, object] = {"poll_number": c.u16("poll number")}
    if extended:
        details["sequence"] = c.u16("sequence number")
    c.u32("relative time")
    c.take(8, "absolute time")
    c.take(4, "polled object type")
    c.u16("attribute group")
    contexts = c.u16("context count")
    body = c.sub(c.u16("poll info length"), "poll info list")
    out: list[Decoded] = []
    for _ in range(contexts):
        body.u16("context id")
        objects = body.u16("object count")
        inner = body.sub(body.u16("context length"), "context poll")
        for _ in range(objects):
            out += _attributes(inner, inner.u16("object handle"), details, reading)
    return out


def decode_message(data: bytes, specs: Mapping[int, WaveSpec] | None = None) -> Message:
    """One message's content. `specs` are the wave specs known from earlier messages (by object handle);
    the message's `specs` are the ones it set or changed, for the caller to keep."""
    if not data:
        raise DecodeError(PROTOCOL, "empty message", 0)
    if data[0] in SESSION:
        pdu = decode_session(data)
        return Message(pdu.label, session=pdu)
    c = Fields(PROTOCOL, data, "big")
    if c.u16("session id") != 0xE100:
        raise DecodeError(PROTOCOL, f"unknown message type {data[0]:#04x}", 0)
    c.u16("presentation context")
    ro_type = c.u16("remote operation type")
    ro = c.sub(c.u16("remote operation length"), "remote operation")
    if ro_type not in RO_TYPES:
        raise DecodeError(PROTOCOL, f"unknown remote operation type {ro_type}", 4)
    linked_state = None
    if ro_type == 5:
        linked_state = ro.u8("linked state")
        ro.u8("linked count")
    invoke_id = ro.u16("invoke id")
    if ro_type == 3:
        return Message(f"error {ro.u16('error value')}", invoke_id, ro_type=ro_type)
    command = ro.u16("command type")
    body = ro.sub(ro.u16("command length"), "command")
    if command in (CMD_EVENT_REPORT, CMD_CONFIRMED_EVENT_REPORT):
        body.take(6, "managed object")
        body.u32("event time")
        event = body.u16("event type")
        kind = "mds create event" if event == NOTI_MDS_CREATE else f"event {event:#06x}"
        return Message(kind, invoke_id, ro_type=ro_type)
    if command == CMD_CONFIRMED_ACTION and ro_type in (2, 5):
        body.take(6, "managed object")
        action = body.u16("action type")
        reply = body.sub(body.u16("action length"), "action result")
        if action in (ACT_POLL, ACT_POLL_EXT):
            reading = _Reading(specs or {})
            values = _poll_reply(reply, action == ACT_POLL_EXT, reading)
            return Message(
                "poll result", invoke_id, values, ro_type, linked_state, None, reading.specs, reading.problems
            )
        return Message(f"action result {action:#06x}", invoke_id, ro_type=ro_type, linked_state=linked_state)
    return Message(f"{RO_TYPES[ro_type]} of command {command}", invoke_id, ro_type=ro_type)


def decode_stream(stream: bytes) -> tuple[list[Decoded], list[DecodeError]]:
    """The numerics and waves of every good frame of a captured byte stream, and an error for each bad
    one. Wave specs are carried from frame to frame as a session does."""
    frames, errors = deframe(stream)
    values: list[Decoded] = []
    specs: dict[int, WaveSpec] = {}
    for at, data in frames:
        try:
            message = decode_message(data, specs)
        except DecodeError as exc:
            errors.append(DecodeError(PROTOCOL, f"frame at byte {at}: {str(exc).split(': ', 1)[1]}"))
            continue
        specs.update(message.specs)
        values += message.values
        errors += [
            DecodeError(PROTOCOL, f"frame at byte {at}: {str(p).split(': ', 1)[1]}") for p in message.problems
        ]
    return values, errors
