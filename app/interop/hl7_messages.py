"""HL7 v2.6 messages the station sends and answers, built and checked with hl7apy (pure functions).

- PCD-01 `ORU^R01^ORU_R01`: a bed's numerics, MDC-coded, with containment sub-ids (PROTOCOLS.md §8).
- PCD-04 `ORU^R40^ORU_R01`: one alarm's change, after the IHE PCD Alarm Communication Management profile:
  an OBR per alarm and OBX facets (event identification .1, source .2, phase .3, state .4, inactivation
  .5); priority and kind in OBX-8 (`PH`/`PM`/`PL`, `SP`/`ST`). The facet codes (MDC_ATTR_EVENT_PHASE
  68481, MDC_ATTR_ALARM_STATE 68482, MDC_ATTR_ALARM_INACTIVATION_STATE 68483) are **unverified** against
  the PCD TF; the alarm itself is coded locally (`99WW`), since MDC event codes per alarm are not tabled here.
- `ACK` answering an inbound message (MSA-1 AA/AE/AR).
"""

from __future__ import annotations

import math

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Group, Message
from wardwatch.app.alarms.model import Action, Category, Priority
from wardwatch.app.domain import Patient
from wardwatch.app.interop.reports import AlarmReport, BedReport, Identity, Numeric, hl7_time
from wardwatch.app.interop.vocabulary import MDC_UNITS, MDS_ROW, VMD_OF, ref_id

VERSION = "2.6"
PCD01_PROFILE = "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"
PCD04_PROFILE = "IHE_PCD_ACM_001^IHE PCD^1.3.6.1.4.1.19376.1.6.4.4^ISO"
MONITORING = "182777000^monitoring of patient^SCT"
LOCAL_CODES = "99WW"

_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\"))


def escape(text: str) -> str:
    """Text for one component: HL7's escape sequences for the delimiters, line breaks dropped.
    (hl7apy stores what it is given as ER7, so free text must be escaped first.)"""
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return text.replace("\r", " ").replace("\n", " ")


def _components(*parts: str) -> str:
    return "^".join(escape(p) for p in parts).rstrip("^")


def _msh(msg: Message, identity: Identity, control_id: str, kind: str, time: float, profile: str) -> None:
    msg.msh.msh_3 = f"{escape(identity.application)}^{identity.eui64}^EUI-64"
    msg.msh.msh_4 = escape(identity.facility)
    msg.msh.msh_7 = hl7_time(time)
    msg.msh.msh_9 = kind
    msg.msh.msh_10 = escape(control_id)
    msg.msh.msh_11 = "P"
    msg.msh.msh_15 = "AL"
    msg.msh.msh_16 = "NE"
    msg.msh.msh_18 = "UNICODE UTF-8"
    msg.msh.msh_21 = profile


def _patient(result: Group, patient: Patient | None, identity: Identity, bed_label: str) -> None:
    if patient is None:
        return  # an alarm of an empty bed position still goes out, without a patient
    group = result.add_group("ORU_R01_PATIENT")
    group.pid.pid_3 = f"{escape(patient.mrn)}^^^{escape(identity.facility)}^MR"
    group.pid.pid_5 = _components(patient.family_name, patient.given_name)
    if patient.birth_date is not None:
        group.pid.pid_7 = patient.birth_date.strftime("%Y%m%d")
    visit = group.add_group("ORU_R01_VISIT")
    visit.pv1.pv1_2 = "I"
    visit.pv1.pv1_3 = _components(identity.facility, "", bed_label)


def _number(value: float) -> str:
    return f"{value:.6g}" if not float(value).is_integer() else str(int(value))


def _limits(n: Numeric) -> str:
    if n.low is None and n.high is None:
        return ""
    low = "" if n.low is None else _number(n.low)
    high = "" if n.high is None else _number(n.high)
    return f"{low}-{high}"


def pcd01(report: BedReport, identity: Identity, control_id: str) -> Message:
    """A bed's numerics as an IHE PCD-01 message (validated; raises hl7apy's ValidationError)."""
    msg = Message("ORU_R01", version=VERSION, validation_level=VALIDATION_LEVEL.STRICT)
    _msh(msg, identity, control_id, "ORU^R01^ORU_R01", report.time, PCD01_PROFILE)
    result = msg.add_group("ORU_R01_PATIENT_RESULT")
    _patient(result, report.patient, identity, report.bed_label)
    order = result.add_group("ORU_R01_ORDER_OBSERVATION")
    filler = f"{escape(control_id)}^WARDWATCH^{identity.eui64}^EUI-64"
    order.obr.obr_1 = "1"
    order.obr.obr_2 = filler
    order.obr.obr_3 = filler
    order.obr.obr_4 = MONITORING
    order.obr.obr_7 = hl7_time(report.time)
    rows: list[tuple[str, str, str, str, str, str, str, str]] = [
        ("", f"{MDS_ROW[0]}^{MDS_ROW[1]}^MDC", "1.0.0.0", "", "", "", "X", "")
    ]
    metric_of: dict[tuple[int, int], int] = {}
    for n in sorted(report.numerics, key=lambda n: (VMD_OF[n.code], int(n.code))):
        if not math.isfinite(n.value):
            continue  # PROTOCOLS.md §8: a value that is not a number is not sent as one
        vmd, channel = VMD_OF[n.code]
        metric = metric_of.get((vmd, channel), 0) + 1
        metric_of[(vmd, channel)] = metric
        unit = MDC_UNITS[n.code]
        rows.append(
            (
                "NM",
                f"{int(n.code)}^{ref_id(n.code)}^MDC",
                f"1.{vmd}.{channel}.{metric}",
                _number(n.value),
                f"{unit.code}^{unit.ref_id}^MDC",
                _limits(n),
                "R",
                hl7_time(n.time),
            )
        )
    for i, (kind, code, sub_id, value, unit_text, ref_range, status, when) in enumerate(rows, start=1):
        obx = order.add_group("ORU_R01_OBSERVATION").obx
        obx.obx_1 = str(i)
        if kind:
            obx.obx_2 = kind
        obx.obx_3 = code
        obx.obx_4 = sub_id
        if value:
            obx.obx_5 = value
            obx.obx_6 = unit_text
        if ref_range:
            obx.obx_7 = ref_range
        obx.obx_11 = status
        if when:
            obx.obx_14 = when
        obx.obx_18 = f"{identity.eui64}^EUI-64"
    msg.validate()
    return msg


_PRIORITY_FLAG = {Priority.HIGH: "PH", Priority.MEDIUM: "PM", Priority.LOW: "PL"}

# action -> (event phase, alarm state, inactivation state)
_PHASE: dict[Action, tuple[str, str, str]] = {
    Action.RAISED: ("start", "active", "enabled"),
    Action.RELEASED: ("start", "active", "enabled"),
    Action.ESCALATED: ("escalate", "active", "enabled"),
    Action.ACKNOWLEDGED: ("update", "active", "acknowledged"),
    Action.CONDITION_ENDED: ("end", "latched", "enabled"),
    Action.CLEARED: ("end", "inactive", "enabled"),
}


def alarm_phase(action: Action) -> tuple[str, str, str]:
    return _PHASE[action]


def pcd04(report: AlarmReport, identity: Identity, control_id: str) -> Message:
    """One alarm's change as an IHE PCD-04 message (validated)."""
    msg = Message("ORU_R01", version=VERSION, validation_level=VALIDATION_LEVEL.STRICT)
    _msh(msg, identity, control_id, "ORU^R40^ORU_R01", report.time, PCD04_PROFILE)
    result = msg.add_group("ORU_R01_PATIENT_RESULT")
    _patient(result, report.patient, identity, report.bed_label)
    order = result.add_group("ORU_R01_ORDER_OBSERVATION")
    # OBR-2/-3: the alarm's own identity, the same through all its phases, so a manager can thread them
    order.obr.obr_1 = "1"
    order.obr.obr_2 = f"{escape(report.alarm_ref)}^WARDWATCH^{identity.eui64}^EUI-64"
    order.obr.obr_3 = f"{escape(control_id)}^WARDWATCH^{identity.eui64}^EUI-64"
    order.obr.obr_4 = "196616^MDC_EVT_ALARM^MDC"
    order.obr.obr_7 = hl7_time(report.time)
    phase, state, inactivation = alarm_phase(report.action)
    kind = "ST" if report.category is Category.TECHNICAL else "SP"
    flags = (_PRIORITY_FLAG[report.priority], kind)
    source = (
        f"{int(report.source)}^{ref_id(report.source)}^MDC"
        if report.source is not None
        else f"{MDS_ROW[0]}^{MDS_ROW[1]}^MDC"
    )
    facets = (
        ("ST", _components(report.key, report.text, LOCAL_CODES), "1.0.0.0.1", escape(report.text), flags),
        ("ST", source, "1.0.0.0.2", "", ()),
        ("ST", "68481^MDC_ATTR_EVENT_PHASE^MDC", "1.0.0.0.3", phase, ()),
        ("ST", "68482^MDC_ATTR_ALARM_STATE^MDC", "1.0.0.0.4", state, ()),
        ("ST", "68483^MDC_ATTR_ALARM_INACTIVATION_STATE^MDC", "1.0.0.0.5", inactivation, ()),
    )
    for i, (vtype, code, sub_id, value, flag_list) in enumerate(facets, start=1):
        obx = order.add_group("ORU_R01_OBSERVATION").obx
        obx.obx_1 = str(i)
        obx.obx_2 = vtype
        obx.obx_3 = code
        obx.obx_4 = sub_id
        if value:
            obx.obx_5 = value
        for n, flag in enumerate(flag_list):  # OBX-8 repeats: priority, then physiological/technical
            if n == 0:
                obx.obx_8 = flag
            else:
                obx.add_field("OBX_8").value = flag
        obx.obx_11 = "F"
        obx.obx_14 = hl7_time(report.time)
        obx.obx_18 = f"{identity.eui64}^EUI-64"
    msg.validate()
    return msg


def ack(
    control_id: str, code: str, text: str, identity: Identity, event: str, ack_control_id: str, time: float
) -> Message:
    """The answer to an inbound message: MSA-1 `code` (AA accepted, AE error, AR rejected), MSA-2 the
    message's control id, and for AE/AR an ERR segment with `text` (which never holds patient data)."""
    msg = Message("ACK", version=VERSION, validation_level=VALIDATION_LEVEL.STRICT)
    msg.msh.msh_3 = f"{escape(identity.application)}^{identity.eui64}^EUI-64"
    msg.msh.msh_4 = escape(identity.facility)
    msg.msh.msh_7 = hl7_time(time)
    msg.msh.msh_9 = f"ACK^{escape(event)}^ACK" if event else "ACK"
    msg.msh.msh_10 = escape(ack_control_id)
    msg.msh.msh_11 = "P"
    msg.msa.msa_1 = code
    msg.msa.msa_2 = escape(control_id[:199])
    if code != "AA" and text:
        err = msg.add_segment("ERR")
        err.err_3 = (
            "207^Application internal error^HL70357" if code == "AE" else "200^Unsupported message^HL70357"
        )
        err.err_4 = "E"
        err.err_8 = escape(text[:250])
    if event:
        msg.validate()  # v2.6 wants MSH-9.2 echoed: an answer to a message without one cannot have it
    return msg
