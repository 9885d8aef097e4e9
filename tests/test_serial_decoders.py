"""Serial monitor output decoders (Nonin OEM III format 2, Masimo ASCII 1): good frames and lines decoded,
bad ones named, any bytes survived."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st
from wardwatch.devices import masimo, nonin
from wardwatch.devices.decoded import DecodeError, State
from wardwatch.devices.decoders import STREAM_DECODERS


def nonin_packet(hr: int = 72, spo2: int = 97, status: int = 0x80 | 0x02, first_pleth: int = 0) -> bytes:
    return nonin.encode_packet(hr, spo2, status, [first_pleth + 10 * k for k in range(25)])


def test_nonin_packets_give_heart_rate_spo2_and_75_hz_pleth():
    values, errors = nonin.decode_stream(nonin_packet(hr=140) + nonin_packet(hr=300, spo2=88))
    assert errors == []
    hr1, spo2_1, pleth1, hr2, spo2_2, _ = values
    assert (hr1.value, spo2_1.value, hr2.value, spo2_2.value) == (140.0, 97.0, 300.0, 88.0)
    assert pleth1.rate_hz == 75.0 and len(pleth1.samples) == 25
    assert hr1.details["perfusion"] == "green" and hr1.details["hr_extended"] == 140


def test_nonin_missing_values_and_a_disconnected_sensor():
    (hr, spo2, _), _ = nonin.decode_stream(nonin_packet(hr=511, spo2=127))
    assert hr.value is None and hr.state is State.UNAVAILABLE and spo2.value is None
    (hr, _, pleth), _ = nonin.decode_stream(nonin_packet(status=0x80 | 0x40))
    assert (
        hr.state is State.INVALID
        and pleth.state is State.INVALID
        and "sensor disconnect" in hr.details["status"]
    )


def test_nonin_resynchronises_after_noise_and_a_broken_packet():
    good = nonin_packet(hr=80)
    broken = bytearray(nonin_packet(hr=90))
    broken[5 * 7 + 4] ^= 0xFF  # frame 8's checksum
    values, errors = nonin.decode_stream(b"\x00\xff\x13" + good + bytes(broken) + good)
    assert [v.value for v in values if v.label == "PR"] == [80.0, 80.0]
    assert any("outside any packet" in str(e) for e in errors)
    assert any("packet broken after 7 good frames" in str(e) for e in errors)


LINE = (
    "12/02/26 10:30:00 SN=0000012345 SPO2=098% BPM=072 PI=03.60% SPCO=--.-% SPMET=--.-% DESAT=-- "
    "PIDELTA=+-- ALARM=0000 EXC=000800"
)


def test_masimo_line_gives_spo2_pulse_rate_and_pi_with_the_device_time():
    spo2, pr, pi = masimo.decode_line(LINE)
    assert (spo2.value, pr.value, pi.value) == (98.0, 72.0, 3.6)
    assert spo2.state is State.VALID and spo2.details["device_time"] == "2026-12-02T10:30:00"


def test_masimo_radical7_line_and_exception_bits():
    line = "12/02/26 10:30:00 SN=1 SPO2=095% BPM=110 PI=1.20 SPHB=--.- PVI=--- ALARM=000000 EXC=0000414"
    spo2, _pr, pi = masimo.decode_line(line)
    assert pi.value == 1.2  # Radical-7 firmware may leave out the % after PI
    assert spo2.state is State.QUESTIONABLE
    assert spo2.details["exceptions"] == ["low perfusion", "interference", "low signal IQ"]
    off, _, _ = masimo.decode_line(LINE.replace("EXC=000800", "EXC=000021").replace("SPO2=098%", "SPO2=---%"))
    assert off.value is None and off.state is State.UNAVAILABLE


def test_masimo_bad_lines_are_named_and_the_good_ones_kept():
    text = "\n".join(
        [LINE, LINE.replace("SPO2=098%", "SPO2=101%"), LINE.replace(" BPM=072", ""), "noise", LINE]
    )
    values, errors = masimo.decode_stream(text.encode())
    assert len(values) == 6
    assert [str(e) for e in errors] == [
        "masimo: line 2: SPO2=101 is out of range",
        "masimo: line 3: no BPM",
        "masimo: line 4: no MM/DD/YY HH:MM:SS time at its start",
    ]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(STREAM_DECODERS)), st.binary(max_size=300))
def test_any_bytes_give_values_and_errors_never_another_exception(protocol, data):
    values, errors = STREAM_DECODERS[protocol](data)
    assert all(isinstance(e, DecodeError) for e in errors)
    assert all(set(v.to_json()) >= {"code", "label", "value", "unit", "unit_code", "state"} for v in values)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=60), st.integers(0, 2))
def test_a_good_packet_survives_any_noise_around_it(noise, where):
    packet = nonin_packet(hr=66)
    data = noise + packet if where == 0 else packet + noise if where == 1 else noise + packet + noise
    values, _ = nonin.decode_stream(data)
    assert 66.0 in [v.value for v in values if v.label == "PR"]


def test_decode_command_reports_bad_frames_on_stderr_and_prints_the_good_ones(tmp_path):
    capture = tmp_path / "nonin.bin"
    capture.write_bytes(b"\x07\x07" + nonin_packet(hr=61))
    run = subprocess.run(
        [sys.executable, "-m", "wardwatch.app.cli", "decode", "nonin", str(capture)],
        capture_output=True,
        timeout=60,
    )
    assert run.returncode == 0
    assert b'"value": 61.0' in run.stdout and b"samples" in run.stdout
    assert run.stderr.decode().startswith("error: nonin: 2 bytes outside any packet skipped at byte 0")
