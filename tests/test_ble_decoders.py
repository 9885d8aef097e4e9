"""BLE health-profile decoders against ../shared/PROTOCOLS.md's vectors, and against any bytes at all."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wardwatch.devices import polar_pmd
from wardwatch.devices.ble import battery, blood_pressure, cgm, heart_rate, plx, thermometer
from wardwatch.devices.decoded import DecodeError, State
from wardwatch.devices.decoders import MESSAGE_DECODERS
from wardwatch.devices.mder import float32, sfloat


@pytest.mark.parametrize(
    ("raw", "value"),
    [(0x0072, 114.0), (0xF12C, 30.0), (0xE141, 3.21), (0x0F9C, -100.0)],
)
def test_sfloat_spec_examples(raw, value):
    assert sfloat(raw).value == value and sfloat(raw).state is State.VALID


def test_float_spec_examples_keep_their_resolution():
    n = float32(int.from_bytes(bytes.fromhex("420E00FE"), "little"))
    assert (n.value, n.decimals) == (36.5, 2)  # shown as 36.50
    assert float32(int.from_bytes(bytes.fromhex("FF00017C"), "big")).value == 38.0
    assert float32(0x00FFFF9C).value == -100.0


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        (0x07FF, State.UNAVAILABLE),
        (0x0800, State.UNAVAILABLE),
        (0x07FE, State.OUT_OF_RANGE),
        (0x0802, State.OUT_OF_RANGE),
        (0x0801, State.INVALID),
        (0x17FF, State.INVALID),
    ],
)
def test_sfloat_special_values_are_never_numbers(raw, state):
    assert sfloat(raw).value is None and sfloat(raw).state is state


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        (0x007FFFFF, State.UNAVAILABLE),
        (0x00800000, State.UNAVAILABLE),
        (0x007FFFFE, State.OUT_OF_RANGE),
        (0x00800002, State.OUT_OF_RANGE),
        (0x00800001, State.INVALID),
        (0xFF7FFFFF, State.INVALID),
    ],
)
def test_float_special_values_are_never_numbers(raw, state):
    assert float32(raw).value is None and float32(raw).state is state


def test_heart_rate_spec_example_with_an_rr_interval():
    (hr,) = heart_rate.decode(bytes.fromhex("1048F003"))
    assert hr.value == 72.0 and hr.details["contact"] == "not supported"
    assert hr.details["rr_s"] == [round(1008 / 1024, 4)]


def test_heart_rate_16_bit_energy_and_lost_contact():
    (hr,) = heart_rate.decode(bytes.fromhex("0D2C013412"))  # uint16 HR 300, no contact, energy
    assert hr.value == 300.0 and hr.details["energy_kj"] == 0x1234
    assert hr.state is State.QUESTIONABLE and hr.details["contact"] == "no contact"


def test_plx_continuous_spec_example():
    spo2, pr = plx.decode_continuous(bytes.fromhex("005F004C00"))
    assert (spo2.code, spo2.value, pr.code, pr.value) == (150456, 95.0, 149530, 76.0)


def test_plx_spot_check_with_every_field_and_a_demo_flag():
    data = bytes.fromhex(
        "1F61004800EA070C020A1E0000040000002B00"
    )  # 97 %, 72 bpm, 2026-12-02 10:30:00, status bit 10 (demonstration), sensor ok, PAI 4.3
    values = plx.decode_spot(data)
    assert [v.label for v in values] == ["SpO2", "PR", "PI"]
    assert all(v.state is State.DEMO for v in values)  # never charted
    assert values[0].details["timestamp"] == "2026-12-02T10:30:00"
    assert values[0].details["device_clock_set"] is False


def test_plx_sensor_disconnected_invalidates_the_values():
    spo2, _pr = plx.decode_continuous(bytes.fromhex("0861004800008000"))
    assert spo2.state is State.INVALID and "sensor disconnected" in spo2.details["sensor_status"]


def test_thermometer_in_fahrenheit_with_site():
    (t,) = thermometer.decode(bytes.fromhex("05DA0300FF06"))  # 986 × 10^-1 °F, mouth
    assert (t.value, t.unit, t.unit_code, t.details["site"]) == (98.6, "[degF]", 266560, "mouth")
    (c,) = thermometer.decode(bytes.fromhex("00420E00FE"))
    assert (c.value, c.unit, c.decimals) == (36.5, "Cel", 2)  # to be shown as 36.50
    assert c.to_json()["decimals"] == 2


def test_blood_pressure_with_nan_map_pulse_and_status():
    data = bytes.fromhex("1478005000FF0748000500")  # 120/80, MAP NaN, pulse 72, status
    sys_, dia, mean, pulse = blood_pressure.decode_measurement(data)
    assert (sys_.value, dia.value, mean.value, pulse.value) == (120.0, 80.0, None, 72.0)
    assert mean.state is State.UNAVAILABLE
    assert sys_.details["status"] == ["body movement", "irregular pulse"]


def test_intermediate_cuff_pressure_gives_only_the_cuff_pressure():
    (cuff,) = blood_pressure.decode_intermediate(bytes.fromhex("009600FF07FF07"))
    assert (cuff.code, cuff.value) == (150300, 150.0)


@pytest.mark.parametrize(
    ("decode", "data"),
    [
        (heart_rate.decode, ""),
        (heart_rate.decode, "0148"),  # uint16 HR with one byte
        (heart_rate.decode, "004800"),  # a trailing byte
        (battery.decode, "65"),  # 101 %
        (battery.decode, "6400"),
        (thermometer.decode, "04420E00FE0A"),  # temperature type 10 is not defined
        (blood_pressure.decode_measurement, "027800500064"),  # time stamp cut short
        (plx.decode_continuous, "01005F004C00"),  # fast pair flagged but missing
    ],
)
def test_malformed_messages_are_decode_errors_naming_where(decode, data):
    with pytest.raises(DecodeError, match="ble-"):
        decode(bytes.fromhex(data))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(MESSAGE_DECODERS)), st.binary(max_size=40))
def test_any_bytes_give_values_or_a_decode_error_never_another_exception(protocol, data):
    try:
        values = MESSAGE_DECODERS[protocol](data)
    except DecodeError:
        return
    for v in values:
        assert v.value is None or isinstance(v.value, float)
        assert set(v.to_json()) >= {"code", "label", "value", "unit", "unit_code", "state"}


def _decode_cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "wardwatch.app.cli", "decode", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def test_decode_command_prints_one_json_line_per_value_and_errors_with_status_2(tmp_path):
    ok = _decode_cli("ble-plx-cont", "-", "--hex", stdin=b"00 5F 00 4C 00\n")
    assert ok.returncode == 0, ok.stderr
    lines = ok.stdout.decode().splitlines()
    assert len(lines) == 2 and '"value": 95.0' in lines[0] and '"unit_code": 264864' in lines[1]
    raw = tmp_path / "hr.bin"
    raw.write_bytes(bytes.fromhex("1048F003"))
    assert b'"value": 72.0' in _decode_cli("ble-hr", str(raw)).stdout
    bad = _decode_cli("ble-hr", "-", stdin=b"\x01\x48")
    assert bad.returncode == 2 and bad.stdout == b""
    err = bad.stderr.decode().strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ble-hr:") and "Traceback" not in bad.stderr.decode()


def test_cgm_crc_is_crc16_mcrf4xx():
    assert cgm._CRC(b"123456789") == 0x6F91  # the check value ../shared/PROTOCOLS.md gives


def test_cgm_notification_with_two_records_annunciations_and_crc():
    first = cgm.seal(bytes.fromhex("0AA078000A000205"))  # 120 mg/dL, 10 min, annunciations
    second = bytes.fromhex("0A036E000B00FE0F5F00")  # 110 mg/dL, trend -2, quality 95 %
    a, b = cgm.decode(first + second)
    assert (a.value, a.details["time_offset_min"]) == (120.0, 10)
    assert a.details["annunciation"] == ["device battery low", "below patient low level", "below hypo level"]
    assert (b.value, b.details["trend_mg_dl_per_min"], b.details["quality_percent"]) == (110.0, -2.0, 95.0)


def test_cgm_record_with_a_wrong_crc_or_size_is_rejected():
    record = bytearray(cgm.seal(bytes.fromhex("080078000A00")))
    record[-1] ^= 0x01
    with pytest.raises(DecodeError, match="E2E-CRC"):
        cgm.decode(bytes(record))
    with pytest.raises(DecodeError, match="record size"):
        cgm.decode(bytes.fromhex("090078000A00"))


def _pmd_ecg(samples: list[int], stamp_ns: int = 599_000_000_000, frame: int = 0) -> bytes:
    body = b"".join(s.to_bytes(3, "little", signed=True) for s in samples)
    return bytes([0]) + stamp_ns.to_bytes(8, "little") + bytes([frame]) + body


def test_polar_pmd_ecg_frame_gives_microvolt_samples_at_130_hz():
    (ecg,) = polar_pmd.decode(_pmd_ecg([-120, 0, 1500, -8_388_608]))
    assert ecg.samples == (-120.0, 0.0, 1500.0, -8_388_608.0)
    assert (ecg.rate_hz, ecg.unit, ecg.unit_code, ecg.code) == (130.0, "uV", 266419, 131328)
    assert ecg.details["last_sample_ns"] == 599_000_000_000


@pytest.mark.parametrize(
    "data",
    [
        _pmd_ecg([1, 2])[:-1],  # a sample cut short
        _pmd_ecg([1], frame=0x80),  # delta-compressed
        bytes([2]) + bytes(9) + b"\x01\x02\x03",  # accelerometer, not ECG
        bytes.fromhex("F00200000000"),  # a control point response
    ],
)
def test_polar_pmd_frames_it_cannot_use_are_decode_errors(data):
    with pytest.raises(DecodeError, match="polar-pmd"):
        polar_pmd.decode(data)


def test_polar_pmd_start_command_is_the_one_the_h10_takes():
    assert polar_pmd.start_ecg_command() == bytes.fromhex("02000001820001010E00")
    assert polar_pmd.stop_command() == bytes.fromhex("0300")


def test_polar_pmd_control_responses_say_why_a_start_failed():
    ok = polar_pmd.parse_control_response(bytes.fromhex("F0020000000102"))
    assert ok.ok and ok.parameters == b"\x01\x02"
    mtu = polar_pmd.parse_control_response(bytes.fromhex("F002000A00"))
    assert not mtu.ok and "MTU" in mtu.text
    with pytest.raises(DecodeError):
        polar_pmd.parse_control_response(bytes.fromhex("0F05"))
