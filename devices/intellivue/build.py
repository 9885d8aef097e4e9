"""IntelliVue messages built byte by byte: the host's poll requests and MDS create result (../shared/
PROTOCOLS.md §5.3), and a monitor's MDS create event and poll results with numerics and waves (for the
emulated monitor, the decode bench and tests)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

SESSION_DATA = bytes.fromhex("E1000002")  # session id E1 00, presentation context 2
MDS = 33  # NOM_MOC_VMS_MDS
NUMERICS = 6  # NOM_MOC_VMO_METRIC_NU
WAVES = 9  # NOM_MOC_VMO_METRIC_SA_RT
ALARMS = 54  # NOM_MOC_VMO_AL_MON
ACT_POLL, ACT_POLL_EXT = 0x0C16, 0xF13B
ATTR_TIME_PD_POLL = 0xF13E
NOTI_MDS_CREATE = 0x0D06


@dataclass(frozen=True, slots=True)
class Numeric:
    handle: int
    physio_id: int
    unit: int
    raw_value: int  # the 11073 FLOAT as sent (big-endian u32)
    state: int = 0


def _action(invoke_id: int, action: int, args: bytes) -> bytes:
    """A confirmed action on the MDS (ROIV · invoke · command 7 · object · scope · action · args)."""
    body = struct.pack(">HHHIHH", MDS, 0, 0, 0, action, len(args)) + args
    command = struct.pack(">HHH", invoke_id, 7, len(body)) + body
    return SESSION_DATA + struct.pack(">HH", 1, len(command)) + command


def poll_request(poll_number: int, invoke_id: int = 0, object_class: int = NUMERICS) -> bytes:
    """A single MDIB poll for one object class (36 bytes, as §5.3 spells out): poll number, polled type
    (partition OBJ, class), all attribute groups."""
    return _action(invoke_id, ACT_POLL, struct.pack(">HHHH", poll_number, 1, object_class, 0))


def ext_poll_request(poll_number: int, invoke_id: int, object_class: int, period: int) -> bytes:
    """An extended MDIB poll: the monitor keeps sending the class's objects (numerics once a second,
    waves as they are sampled) for `period` (RelativeTime, 1/8 ms), as linked results."""
    attrs = attribute(ATTR_TIME_PD_POLL, struct.pack(">I", period))
    args = struct.pack(">HHHH", poll_number, 1, object_class, 0) + struct.pack(">HH", 1, len(attrs)) + attrs
    return _action(invoke_id, ACT_POLL_EXT, args)


def mds_create_result(invoke_id: int, relative_time: int = 0) -> bytes:
    """The host's answer to the monitor's MDS Create Event Report (28 bytes)."""
    return SESSION_DATA + struct.pack(
        ">HH" + "HHH" + "HHH" + "I" + "HH", 2, 20, invoke_id, 1, 14, 33, 0, 0, relative_time, 0x0D06, 0
    )


def mds_create_event(invoke_id: int, relative_time: int, attributes: Sequence[bytes] = ()) -> bytes:
    """The monitor's MDS Create Event Report: confirmed event report on the MDS, event NOM_NOTI_MDS_CREAT,
    MdsCreateInfo = the MDS object and its attribute list."""
    attrs = b"".join(attributes)
    info = struct.pack(">HHH", MDS, 0, 0) + struct.pack(">HH", len(attributes), len(attrs)) + attrs
    body = struct.pack(">HHHIHH", MDS, 0, 0, relative_time, NOTI_MDS_CREATE, len(info)) + info
    command = struct.pack(">HHH", invoke_id, 1, len(body)) + body
    return SESSION_DATA + struct.pack(">HH", 1, len(command)) + command


def float_raw(mantissa: int, exponent: int = 0) -> int:
    """An 11073 FLOAT as the u32 sent: exponent in the top byte, mantissa in the low 24 bits."""
    return ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF)


def nu_value(physio_id: int, raw_value: int, unit: int, state: int = 0) -> bytes:
    """A `NuObsValue`: physio id, measurement state, unit code, the 11073 FLOAT as sent."""
    return struct.pack(">HHHI", physio_id, state, unit, raw_value)


def attribute(attribute_id: int, value: bytes) -> bytes:
    return struct.pack(">HH", attribute_id, len(value)) + value


def observation(handle: int, *attributes: bytes) -> bytes:
    """An `ObservationPoll`: the object's handle and its attribute list."""
    body = b"".join(attributes)
    return struct.pack(">HHH", handle, len(attributes), len(body)) + body


def numeric_object(n: Numeric) -> bytes:
    return observation(n.handle, attribute(0x0950, nu_value(n.physio_id, n.raw_value, n.unit, n.state)))


def sa_value(physio_id: int, samples: Sequence[int], state: int = 0) -> bytes:
    """A `SaObsValue`: physio id, measurement state, the array of u16 samples (length in bytes)."""
    data = b"".join(struct.pack(">H", s & 0xFFFF) for s in samples)
    return struct.pack(">HHH", physio_id, state, len(data)) + data


def sa_spec(array_size: int, significant_bits: int, sample_size: int = 16, flags: int = 0) -> bytes:
    return struct.pack(">HBBH", array_size, sample_size, significant_bits, flags)


def scale_spec(lower: int, upper: int, lower_scaled: int, upper_scaled: int) -> bytes:
    """`ScaleRangeSpec16`; `lower`/`upper` are FLOATs as sent (see float_raw)."""
    return struct.pack(">IIHH", lower, upper, lower_scaled, upper_scaled)


def poll_result(
    objects: Sequence[bytes],
    poll_number: int = 1,
    invoke_id: int = 0,
    relative_time: int = 0,
    ro_type: int = 2,
    linked: bytes = b"",
    extended: bool = False,
    object_class: int = NUMERICS,
    sequence: int = 7,
) -> bytes:
    """A monitor's poll reply carrying `objects` (encoded observations, one context) of `object_class`:
    a result (`ro_type` 2) or a linked result (5, with its `linked` state and count bytes), of a single
    or an extended poll (which adds a sequence number)."""
    body = b"".join(objects)
    context = struct.pack(">HHH", 0, len(objects), len(body)) + body
    reply = struct.pack(">H", poll_number) + (struct.pack(">H", sequence) if extended else b"")
    reply += struct.pack(">I", relative_time) + b"\xff" * 8 + struct.pack(">HHH", 1, object_class, 0)
    reply += struct.pack(">HH", 1, len(context)) + context
    action = struct.pack(">HHHHH", MDS, 0, 0, ACT_POLL_EXT if extended else ACT_POLL, len(reply)) + reply
    command = linked + struct.pack(">HHH", invoke_id, 7, len(action)) + action
    return SESSION_DATA + struct.pack(">HH", ro_type, len(command)) + command
