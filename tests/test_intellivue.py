"""IntelliVue Data Export over MIB/RS232: framing against ../shared/PROTOCOLS.md's vectors, poll replies
read into numerics, and any bytes survived."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wardwatch.devices.decoded import DecodeError, State
from wardwatch.devices.intellivue import build
from wardwatch.devices.intellivue.build import attribute, nu_value, observation
from wardwatch.devices.intellivue.framing import FCS, deframe, frame
from wardwatch.devices.intellivue.messages import decode_message, decode_stream

VECTORS = [
    ("E1000002", "C0 11 01 00 04 E1 00 00 02 52 60 C1"),
    ("C07DC1", "C0 11 01 00 03 7D E0 7D 5D 7D E1 29 1A C1"),
    ("0048", "C0 11 01 00 02 00 48 A4 7D E1 C1"),
]


def test_fcs_is_crc16_x25():
    assert FCS(b"123456789") == 0x906E


@pytest.mark.parametrize(("data", "wire"), VECTORS)
def test_frames_match_the_spec_vectors_both_ways(data, wire):
    assert frame(bytes.fromhex(data)) == bytes.fromhex(wire)
    assert deframe(bytes.fromhex(wire)) == ([(0, bytes.fromhex(data))], [])


def test_noise_aborts_restarts_and_bad_frames_are_reported_and_the_good_ones_kept():
    good = frame(b"\xe1\x00\x00\x02")
    bad_fcs = bytearray(frame(b"\x01\x02\x03"))
    bad_fcs[-2] ^= 0x01
    wrong_length = (
        bytes.fromhex("C0 11 01 00 09 E1 00")
        + FCS(bytes.fromhex("11 01 00 09 E1 00")).to_bytes(2, "little")
        + b"\xc1"
    )
    stream = (
        b"\x55\xaa"
        + good
        + b"\xc0\x11\x01\x7d\xc1"
        + b"\xc0\x11"
        + good
        + bytes(bad_fcs)
        + wrong_length
        + good
    )
    frames, errors = deframe(stream)
    assert [d for _, d in frames] == [b"\xe1\x00\x00\x02"] * 3
    text = " | ".join(str(e) for e in errors)
    assert (
        "aborted" in text
        and "restarted" in text
        and "frame check sequence" in text
        and "says 9 bytes" in text
    )


def _nu(physio: int, value_raw: int, unit: int = 0x0AA0, state: int = 0) -> bytes:
    return nu_value(physio, value_raw, unit, state)


def poll_result(*objects: bytes, ro_type: int = 2, linked: bytes = b"", extended: bool = False) -> bytes:
    return build.poll_result(objects, relative_time=123456, ro_type=ro_type, linked=linked, extended=extended)


def test_a_poll_result_gives_numerics_with_codes_units_and_states():
    message = decode_message(
        poll_result(
            observation(0x0101, attribute(0x0950, _nu(0x4182, 72))),  # HR 72 /min
            observation(
                0x0102, attribute(0x0950, _nu(0x4BB8, 0xFF0003C2, unit=0x0220, state=0x8200))
            ),  # 96.2 %, invalid
            observation(
                0x0103,
                attribute(0x0927, b"\x00\x04\x00N\x00B"),  # a label string: ignored
                attribute(
                    0x094B,
                    struct.pack(">HH", 3, 30)
                    + _nu(0x4A05, 120, 0x0F20)
                    + _nu(0x4A06, 80, 0x0F20)
                    + _nu(0x4A07, 0x007FFFFF, 0x0F20),
                ),  # NIBP 120/80, mean NaN
            ),
        )
    )
    assert message.kind == "poll result"
    hr, spo2, sys_, dia, mean = message.values
    assert (hr.code, hr.label, hr.value, hr.unit, hr.unit_code, hr.state) == (
        147842,
        "HR",
        72.0,
        "/min",
        264864,
        State.VALID,
    )
    assert (spo2.code, spo2.value, spo2.state) == (150456, 96.2, State.INVALID)  # undocumented 0x0200 too
    assert (sys_.code, sys_.value, dia.value, mean.value, mean.state) == (
        150021,
        120.0,
        80.0,
        None,
        State.UNAVAILABLE,
    )


def test_a_linked_extended_poll_result_and_session_messages():
    linked = poll_result(
        observation(1, attribute(0x0950, _nu(0x500A, 0xFF00017C, 0x0AE0))),
        ro_type=5,
        linked=b"\x01\x02",
        extended=True,
    )
    (rr,) = decode_message(linked).values
    assert (rr.label, rr.value, rr.details["sequence"]) == ("RR", 38.0, 7)
    assert decode_message(bytes.fromhex("0E 05 01 02 03 04 05")).kind == "association accepted"
    create = bytes.fromhex("E1000002") + struct.pack(">HH", 1, 18) + struct.pack(">HHH", 5, 1, 12)
    create += struct.pack(">HHHIH", 33, 0, 0, 0, 0x0D06)
    assert decode_message(create).kind == "mds create event"


def test_a_nested_length_longer_than_the_message_is_a_decode_error():
    data = bytearray(poll_result(observation(1, attribute(0x0950, _nu(0x4182, 72)))))
    data[-11] = 0x40  # the attribute's length (after its 2-byte id): 64, beyond the message
    with pytest.raises(DecodeError, match="intellivue"):
        decode_message(bytes(data))


def test_a_captured_stream_decodes_through_frames_and_messages():
    stream = (
        frame(poll_result(observation(1, attribute(0x0950, _nu(0x4182, 65)))))
        + b"\x00\x01"
        + frame(b"\xe1\x00")
    )
    values, errors = decode_stream(stream)
    assert [v.value for v in values] == [65.0]
    assert len(errors) == 1 and "frame at byte" in str(errors[0])


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_frames_or_errors_never_another_exception(data):
    decode_stream(data)
    with contextlib.suppress(DecodeError):
        decode_message(data)
