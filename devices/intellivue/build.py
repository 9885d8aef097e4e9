"""IntelliVue messages built byte by byte: the host's poll request and MDS create result (../shared/
PROTOCOLS.md §5.3), and a monitor's poll result (for the emulated monitor, the decode bench and tests)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

SESSION_DATA = bytes.fromhex("E1000002")  # session id E1 00, presentation context 2
NUMERICS = 6  # NOM_MOC_VMO_METRIC_NU


@dataclass(frozen=True, slots=True)
class Numeric:
    handle: int
    physio_id: int
    unit: int
    raw_value: int  # the 11073 FLOAT as sent (big-endian u32)
    state: int = 0


def poll_request(poll_number: int, invoke_id: int = 0, object_class: int = NUMERICS) -> bytes:
    """A single MDIB poll for one object class (36 bytes for numerics, as §5.3 spells out)."""
    return SESSION_DATA + struct.pack(
        ">HHHHH" + "HHH" + "HH" + "HH" + "H" + "HHH",
        1, 28,  # ROIV, length
        invoke_id, 7, 22,  # confirmed action, length
        33, 0, 0,  # the MDS object
        0, 0,  # scope
        0x0C16, 8,  # NOM_ACT_POLL_MDIB_DATA, length
        poll_number,
        1, object_class, 0,  # partition OBJ, class, all attribute groups
    )  # fmt: skip


def mds_create_result(invoke_id: int, relative_time: int = 0) -> bytes:
    """The host's answer to the monitor's MDS Create Event Report (28 bytes)."""
    return SESSION_DATA + struct.pack(
        ">HH" + "HHH" + "HHH" + "I" + "HH", 2, 20, invoke_id, 1, 14, 33, 0, 0, relative_time, 0x0D06, 0
    )


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


def poll_result(
    objects: Sequence[bytes],
    poll_number: int = 1,
    invoke_id: int = 0,
    relative_time: int = 0,
    ro_type: int = 2,
    linked: bytes = b"",
    extended: bool = False,
) -> bytes:
    """A monitor's poll reply carrying `objects` (encoded observations, one context): a result
    (`ro_type` 2) or a linked result (5, with its `linked` state and count bytes), of a single or an
    extended poll (which adds a sequence number)."""
    body = b"".join(objects)
    context = struct.pack(">HHH", 0, len(objects), len(body)) + body
    reply = struct.pack(">H", poll_number) + (struct.pack(">H", 7) if extended else b"")
    reply += struct.pack(">I", relative_time) + b"\xff" * 8 + struct.pack(">HHH", 1, NUMERICS, 0)
    reply += struct.pack(">HH", 1, len(context)) + context
    action = struct.pack(">HHHHH", 33, 0, 0, 0xF13B if extended else 0x0C16, len(reply)) + reply
    command = linked + struct.pack(">HHH", invoke_id, 7, len(action)) + action
    return SESSION_DATA + struct.pack(">HH", ro_type, len(command)) + command
