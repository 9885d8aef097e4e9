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


def _numeric_object(n: Numeric) -> bytes:
    value = struct.pack(">HHHI", n.physio_id, n.state, n.unit, n.raw_value)
    attribute = struct.pack(">HH", 0x0950, len(value)) + value
    return struct.pack(">HHH", n.handle, 1, len(attribute)) + attribute


def poll_result(
    numerics: Sequence[Numeric], poll_number: int = 1, invoke_id: int = 0, relative_time: int = 0
) -> bytes:
    """A monitor's single-poll reply carrying `numerics` (one context, one object each)."""
    objects = b"".join(_numeric_object(n) for n in numerics)
    context = struct.pack(">HHH", 0, len(numerics), len(objects)) + objects
    reply = struct.pack(">HI", poll_number, relative_time) + b"\xff" * 8 + struct.pack(">HHH", 1, NUMERICS, 0)
    reply += struct.pack(">HH", 1, len(context)) + context
    action = struct.pack(">HHHHH", 33, 0, 0, 0x0C16, len(reply)) + reply
    command = struct.pack(">HHH", invoke_id, 7, len(action)) + action
    return SESSION_DATA + struct.pack(">HH", 2, len(command)) + command
