"""HL7 v2.6 messages (IHE PCD-01, PCD-04, ACK) and MLLP framing, checked with hl7apy's own parser."""

from __future__ import annotations

import datetime as dt

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message
from wardwatch.app.alarms.model import Action, Category, Priority
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import Patient
from wardwatch.app.interop import hl7_messages
from wardwatch.app.interop.adt import unescape
from wardwatch.app.interop.mllp import END, START, FrameError, MllpReader, frame
from wardwatch.app.interop.reports import AlarmReport, BedReport, Identity, Numeric, station_eui64

T0 = 1_800_000_000.0
IDENTITY = Identity("WARDWATCH", station_eui64("Ward 3 central"), "WARD3")
PATIENT = Patient("MRN123", "Doe", "Jane", dt.date(1950, 1, 2))


def _strict(text: str):
    msg = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert msg.validate()
    return msg


def _segments(text: str, name: str) -> list[list[str]]:
    return [s.split("|") for s in text.split("\r") if s.startswith(name + "|")]


def _report(**values: float) -> BedReport:
    codes = {
        "hr": (MdcCode.ECG_HEART_RATE, "/min", 50.0, 120.0),
        "spo2": (MdcCode.PULS_OXIM_SAT_O2, "%", 90.0, None),
        "sys": (MdcCode.PRESS_BLD_NONINV_SYS, "mm[Hg]", None, None),
        "rr": (MdcCode.RESP_RATE, "/min", None, None),
    }
    numerics = tuple(
        Numeric(codes[k][0], v, codes[k][1], T0 - 5, codes[k][2], codes[k][3]) for k, v in values.items()
    )
    return BedReport("bed03", "Bed 3", PATIENT, T0, numerics)


def test_pcd01_of_a_bed_validates_as_oru_r01_with_mdc_codes_units_containment_and_profile():
    text = hl7_messages.pcd01(_report(hr=72, spo2=97, sys=121, rr=16), IDENTITY, "WW1-1").to_er7()
    msg = _strict(text)
    assert msg.msh.msh_9.to_er7() == "ORU^R01^ORU_R01"
    assert msg.msh.msh_12.to_er7() == "2.6"
    assert msg.msh.msh_21.to_er7() == hl7_messages.PCD01_PROFILE
    assert msg.msh.msh_10.to_er7() == "WW1-1"
    pid = _segments(text, "PID")[0]
    assert pid[3] == "MRN123^^^WARD3^MR" and pid[5] == "Doe^Jane" and pid[7] == "19500102"
    assert _segments(text, "PV1")[0][3] == "WARD3^^Bed 3"
    obx = {row[3]: row for row in _segments(text, "OBX")}
    assert obx["69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC"][4] == "1.0.0.0"
    hr = obx["147842^MDC_ECG_HEART_RATE^MDC"]
    assert hr[2] == "NM" and hr[5] == "72" and hr[6] == "264864^MDC_DIM_BEAT_PER_MIN^MDC"
    assert hr[7] == "50-120" and hr[11] == "R" and hr[18] == f"{IDENTITY.eui64}^EUI-64"
    assert obx["151562^MDC_RESP_RATE^MDC"][6] == "264928^MDC_DIM_RESP_PER_MIN^MDC"
    assert obx["150021^MDC_PRESS_BLD_NONINV_SYS^MDC"][6] == "266016^MDC_DIM_MMHG^MDC"
    sub_ids = [row[4] for row in _segments(text, "OBX")]
    assert len(sub_ids) == len(set(sub_ids)), "OBX-4 must be unique within the message"
    assert all(s.startswith("1.") and s.count(".") == 3 for s in sub_ids)


def test_pcd01_leaves_out_values_that_are_not_numbers():
    text = hl7_messages.pcd01(_report(hr=float("nan"), spo2=95), IDENTITY, "WW1-2").to_er7()
    _strict(text)
    codes = [row[3] for row in _segments(text, "OBX")]
    assert "147842^MDC_ECG_HEART_RATE^MDC" not in codes
    assert "150456^MDC_PULS_OXIM_SAT_O2^MDC" in codes


def test_patient_text_holding_delimiters_is_escaped_and_reads_back_unchanged():
    odd = Patient("A|1^2", "O'Brien&Sons~X", "Anne\\Marie")
    report = BedReport("bed01", "Bed 1", odd, T0, (Numeric(MdcCode.ECG_HEART_RATE, 60, "/min", T0),))
    text = hl7_messages.pcd01(report, IDENTITY, "WW1-3").to_er7()
    _strict(text)
    pid = _segments(text, "PID")[0]
    assert unescape(pid[5].split("^")[0]) == "O'Brien&Sons~X"
    assert unescape(pid[5].split("^")[1]) == "Anne\\Marie"
    assert unescape(pid[3].split("^")[0]) == "A|1^2"


@pytest.mark.parametrize("action", sorted(hl7_messages._PHASE, key=str))
def test_pcd04_of_every_alarm_change_validates_with_priority_kind_phase_and_state(action):
    report = AlarmReport(
        "bed03", "Bed 3", PATIENT, T0, "run-bed03-7", "spo2_low", "SpO₂ 86 < 90",
        Category.PHYSIOLOGICAL, Priority.HIGH, action, MdcCode.PULS_OXIM_SAT_O2,
    )
    text = hl7_messages.pcd04(report, IDENTITY, "WW1-4").to_er7()
    msg = _strict(text)
    assert msg.msh.msh_9.to_er7() == "ORU^R40^ORU_R01"
    assert msg.msh.msh_21.to_er7() == hl7_messages.PCD04_PROFILE
    rows = {row[4]: row for row in _segments(text, "OBX")}
    assert rows["1.0.0.0.1"][8] == "PH~SP"
    assert rows["1.0.0.0.1"][5] == "SpO₂ 86 < 90"
    assert rows["1.0.0.0.2"][3] == "150456^MDC_PULS_OXIM_SAT_O2^MDC"
    phase, state, inactivation = hl7_messages.alarm_phase(action)
    assert rows["1.0.0.0.3"][5] == phase
    assert rows["1.0.0.0.4"][5] == state
    assert rows["1.0.0.0.5"][5] == inactivation
    assert _segments(text, "OBR")[0][2].startswith("run-bed03-7^")


def test_a_technical_alarm_of_an_empty_bed_goes_out_without_patient_and_marked_technical():
    report = AlarmReport(
        "bed05", "Bed 5", None, T0, "r-5-1", "technical:lead_off", "Leads off",
        Category.TECHNICAL, Priority.LOW, Action.RAISED,
    )
    text = hl7_messages.pcd04(report, IDENTITY, "WW1-5").to_er7()
    _strict(text)
    assert not _segments(text, "PID")
    assert _segments(text, "OBX")[0][8] == "PL~ST"


def test_an_ack_names_the_message_it_answers_and_says_why_on_error():
    text = hl7_messages.ack("ENG-42", "AE", "no bed named X", IDENTITY, "A01", "WWACK1", T0).to_er7()
    msg = _strict(text)
    assert msg.msa.msa_1.to_er7() == "AE" and msg.msa.msa_2.to_er7() == "ENG-42"
    assert "no bed named X" in text


def test_mllp_frames_wrap_the_message_in_the_start_and_end_bytes():
    assert frame("MSH|x\r") == b"\x0bMSH|x\r\x1c\x0d"


def test_mllp_reader_joins_split_frames_and_resyncs_after_garbage():
    reader = MllpReader()
    data = b"junk" + frame("A\r") + b"\x00\x01" + frame("B\r")
    out = []
    for i in range(0, len(data), 3):  # arriving a few bytes at a time
        out += reader.feed(data[i : i + 3])
    assert out == [FrameError("garbage", 4), b"A\r", FrameError("garbage", 2), b"B\r"]


def test_mllp_reader_drops_an_oversized_frame_once_and_reads_the_next():
    reader = MllpReader(max_bytes=100)
    out = reader.feed(START + b"x" * 150)
    out += reader.feed(b"y" * 500 + END)
    out += reader.feed(frame("OK\r"))
    assert out == [FrameError("oversized", 150), b"OK\r"]
