"""IntelliVue Data Export over MIB/RS232: framing against ../shared/PROTOCOLS.md's vectors, poll replies
read into numerics, and any bytes survived."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wardwatch.devices.decoded import DecodeError, State
from wardwatch.devices.intellivue import association, build
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
    assert (
        decode_message(association.association_accept(association.UserInfo())).kind == "association accepted"
    )
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


# Association: the host's request against the guide's example, the monitor's answers decoded.

GUIDE_REQUEST = bytes.fromhex(
    # session header, LI, session parameters, presentation header, LI
    "0D EC 05 08 13 01 00 16 01 02 80 00 14 02 00 02 C1 DC"
    # the BER presentation wrapper up to the octet-aligned user information and its length
    " 31 80 A0 80 80 01 01 00 00 A2 80 A0 03 00 00 01 A4 80 30 80 02 01 01 06 04 52 01 00 01 30 80 06 02"
    " 51 01 00 00 00 00 30 80 02 01 02 06 0C 2A 86 48 CE 14 02 01 00 00 00 01 01 30 80 06 0C 2A 86 48 CE"
    " 14 02 01 00 00 00 02 01 00 00 00 00 00 00 61 80 30 80 02 01 01 A0 80 60 80 A1 80 06 0C 2A 86 48 CE"
    " 14 02 01 00 00 00 03 01 00 00 BE 80 28 80 06 0C 2A 86 48 CE 14 02 01 00 00 00 01 01 02 01 02 81 48"
    # MDSEUserInfoStd (72 bytes)
    " 80 00 00 00 40 00 00 00 00 00 00 00 80 00 00 00 20 00 00 00 00 00 00 00 00 01 00 2C 00 01 00 28"
    " 80 00 00 00 00 00 09 C4 00 00 09 C4 00 00 03 E8 FF FF FF FF 60 00 00 00 00 01 00 0C F0 01 00 08"
    " 8C 00 00 00 00 00 00 00"
    # end of contents of the eight open constructed types
    " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
)


def test_intellivue_association_request_is_the_guides_example_byte_for_byte():
    request = association.association_request()
    assert request == GUIDE_REQUEST
    assert len(association.encode_user_info(association.UserInfo())) == 72


def test_intellivue_association_request_lengths_follow_the_options():
    numerics_only = association.UserInfo(association.PollProfile(ext=association.PollProfileExt(0x80000000)))
    request = association.association_request(numerics_only)
    assert len(request) == len(GUIDE_REQUEST) and request[-24:-20] == bytes.fromhex("80 00 00 00")
    no_extension = association.UserInfo(association.PollProfile(ext=None))
    short = association.association_request(no_extension)
    assert len(short) == len(GUIDE_REQUEST) - 12
    assert short[1] == 0xEC - 12 and short[17] == 0xDC - 12 and short[148:150] == bytes([0x81, 60])
    # a user information of 200 bytes needs the long BER length and the three-byte LIs
    big = association.UserInfo(
        association.PollProfile(ext=association.PollProfileExt(0x88000000, bytes(128), ext_count=0))
    )
    long_request = association.association_request(big)
    assert long_request[1] == 0xFF and int.from_bytes(long_request[2:4], "big") == len(long_request) - 4
    assert association.decode_session(long_request).user_info == big


@pytest.mark.parametrize(
    ("pdu", "kind", "reason"),
    [
        (association.association_refuse(2), association.Spdu.REFUSE, 2),
        (association.release_result(), association.Spdu.DISCONNECT, None),
        (association.abort(), association.Spdu.ABORT, None),
        (association.release_request(), association.Spdu.FINISH, None),
    ],
)
def test_intellivue_session_answers_are_recognised(pdu, kind, reason):
    decoded = association.decode_session(pdu)
    assert (decoded.kind, decoded.reason, decoded.user_info) == (kind, reason, None)


def test_intellivue_release_request_is_the_guides():
    assert association.release_request() == bytes.fromhex(
        "09 18 C1 16 61 80 30 80 02 01 01 A0 80 62 80 80 01 00 00 00 00 00 00 00 00 00"
    )


def test_intellivue_accept_gives_the_monitors_poll_profile():
    offered = association.UserInfo(
        association.PollProfile(min_poll_period=800, ext=association.PollProfileExt(0x80000000)),
        system_type=association.SYST_SERVER,
    )
    accepted = association.decode_session(association.association_accept(offered))
    assert accepted.kind is association.Spdu.ACCEPT and accepted.user_info == offered
    assert accepted.user_info.extended_options == 0x80000000


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("0E 05 01 02 03 04", "LI says 5"),  # LI beyond the bytes
        ("0C 02 32 01 00", "LI says 2"),  # LI short of them
        ("0E FF 00 03 32 01 00", "without user data"),  # an accept must carry the monitor's profile
        ("0E 04 C1 02 30 00", "without MDSEUserInfoStd"),
        ("0E 06 C1 04 31 80 00 01", "end of contents"),
        ("0E 03 C1 05 00", "says 5 bytes"),
        ("19", "ends before session LI"),
        ("19 02 11 05", "says 5 bytes"),
        ("0E 05 C1 03 31 80 31", "ends before"),  # BER that ends inside an indefinite length
    ],
)
def test_intellivue_malformed_session_pdus_are_decode_errors(data, message):
    with pytest.raises(DecodeError, match=message):
        association.decode_session(bytes.fromhex(data))


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([0x0D, 0x0E, 0x0C, 0x09, 0x0A, 0x19]))
def test_intellivue_any_session_pdu_decodes_or_is_a_decode_error(body, kind):
    for data in (bytes([kind]) + body, bytes([kind, len(body) & 0xFF]) + body, GUIDE_REQUEST[:1] + body):
        with contextlib.suppress(DecodeError):
            association.decode_session(data)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(GUIDE_REQUEST) - 1), st.integers(0, 255))
def test_intellivue_a_mutated_accept_decodes_or_is_a_decode_error(at, byte):
    accept = bytearray(association.association_accept(association.UserInfo()))
    accept[at % len(accept)] = byte
    with contextlib.suppress(DecodeError):
        association.decode_session(bytes(accept))


# Waves: sample arrays with their spec, scale and period, kept per handle between replies.

ECG_SCALE = build.scale_spec(build.float_raw(-4096, -2), build.float_raw(40955, -3), 0, 16383)


def _wave_reply(*attributes: bytes, handle: int = 0x0201) -> bytes:
    return build.poll_result([observation(handle, *attributes)], object_class=build.WAVES)


def test_intellivue_wave_samples_are_masked_scaled_and_timed_and_the_spec_is_kept():
    first = _wave_reply(
        attribute(0x096D, build.sa_spec(4, significant_bits=14)),
        attribute(0x096F, ECG_SCALE),
        attribute(0x098D, struct.pack(">I", 16)),  # 2 ms: 500 Hz
        attribute(0x0996, struct.pack(">H", 0x10B2)),  # mV
        attribute(0x096E, build.sa_value(0x0102, [8192, 8192 + 200, 0x4000 | 8192, 0])),
    )
    message = decode_message(first)
    (ecg,) = message.values
    assert (ecg.code, ecg.label, ecg.unit, ecg.rate_hz, ecg.state) == (
        131330,
        "ECG II",
        "mV",
        500.0,
        State.VALID,
    )
    assert ecg.samples == pytest.approx((0.0, 1.0, 0.0, -40.96), abs=1e-9)  # the flag bit 14 masked off
    spec = message.specs[0x0201]
    assert (spec.significant_bits, spec.period, spec.rate_hz) == (14, 16, 500.0)
    # later replies carry only the values: read with the spec kept from the first
    later = decode_message(
        _wave_reply(attribute(0x096E, build.sa_value(0x0102, [8192 - 100], state=0x8000))), message.specs
    )
    (ecg2,) = later.values
    assert ecg2.samples == pytest.approx((-0.5,)) and ecg2.state is State.INVALID and later.specs == {}


def test_intellivue_a_compound_wave_and_a_wave_before_its_spec():
    compound = struct.pack(">HH", 2, 2 * 8) + build.sa_value(0x0101, [1]) + build.sa_value(0x013D, [2])
    pleth_scale = build.scale_spec(build.float_raw(0), build.float_raw(4095, -3), 0, 4095)
    message = decode_message(
        build.poll_result(
            [
                observation(
                    0x0210,
                    attribute(0x096F, ECG_SCALE),
                    attribute(0x098D, struct.pack(">I", 16)),
                    attribute(0x0967, compound),
                ),
                observation(0x0211, attribute(0x096E, build.sa_value(0x4BB4, [100, 200]))),  # no spec yet
                observation(0x0212, attribute(0x096F, pleth_scale), attribute(0x098D, struct.pack(">I", 64))),
            ],
            object_class=build.WAVES,
        )
    )
    assert [v.label for v in message.values] == ["ECG I", "ECG III"]
    assert "before its scale" in str(message.problems[0])
    assert message.specs[0x0212].rate_hz == 125.0
    (pleth,) = decode_message(
        _wave_reply(attribute(0x096E, build.sa_value(0x4BB4, [100, 4095])), handle=0x0212), message.specs
    ).values
    assert (pleth.code, pleth.samples, pleth.rate_hz) == (150452, pytest.approx((0.1, 4.095)), 125.0)


@pytest.mark.parametrize(
    ("attr", "value", "message"),
    [
        (0x096D, build.sa_spec(4, significant_bits=17), "17 bits in 16"),
        (0x096F, build.scale_spec(0, 10, 5, 5), "two distinct points"),
        (0x096F, build.scale_spec(0x007FFFFF, 10, 0, 5), "two distinct points"),
        (0x098D, struct.pack(">I", 0), "period of 0"),
        (0x096E, struct.pack(">HHH", 0x0102, 0, 9) + b"\x00", "ends before sample array"),
    ],
)
def test_intellivue_a_bad_wave_attribute_is_a_decode_error(attr, value, message):
    with pytest.raises(DecodeError, match=message):
        decode_message(_wave_reply(attribute(attr, value)))


def test_intellivue_captured_waves_decode_with_rate_and_samples():
    spec = [
        attribute(0x096D, build.sa_spec(2, significant_bits=14)),
        attribute(0x096F, ECG_SCALE),
        attribute(0x098D, struct.pack(">I", 16)),
    ]
    stream = frame(_wave_reply(*spec, attribute(0x096E, build.sa_value(0x0102, [8192, 8392])))) + frame(
        _wave_reply(attribute(0x096E, build.sa_value(0x0102, [8292])))
    )
    values, errors = decode_stream(stream)
    assert errors == []
    assert [v.to_json()["samples"] for v in values] == [pytest.approx([0.0, 1.0]), pytest.approx([0.5])]
    assert values[0].to_json()["rate_hz"] == 500.0
