"""Codes the interfaces send: MDC units, LOINC codings and the containment of each numeric.

Channel codes, reference ids, LOINC and UCUM come from the station's own table (app/codes.py,
resources/channels.toml); this adds what only the interfaces need (PROTOCOLS.md §2, §8, §9).
"""

from __future__ import annotations

from dataclasses import dataclass

from wardwatch.app.codes import MdcCode, channel_table

MDC_SYSTEM_URI = "urn:iso:std:iso:11073:10101"
LOINC_URI = "http://loinc.org"
UCUM_URI = "http://unitsofmeasure.org"


@dataclass(frozen=True, slots=True)
class MdcUnit:
    code: int
    ref_id: str


BEAT_PER_MIN = MdcUnit(264864, "MDC_DIM_BEAT_PER_MIN")
RESP_PER_MIN = MdcUnit(264928, "MDC_DIM_RESP_PER_MIN")
PERCENT = MdcUnit(262688, "MDC_DIM_PERCENT")
MMHG = MdcUnit(266016, "MDC_DIM_MMHG")
DEGC = MdcUnit(268192, "MDC_DIM_DEGC")

# The MDC unit of each numeric; "/min" alone cannot say whether beats or breaths are counted.
MDC_UNITS: dict[MdcCode, MdcUnit] = {
    MdcCode.ECG_HEART_RATE: BEAT_PER_MIN,
    MdcCode.PULS_OXIM_PULS_RATE: BEAT_PER_MIN,
    MdcCode.PULS_RATE: BEAT_PER_MIN,
    MdcCode.RESP_RATE: RESP_PER_MIN,
    MdcCode.PULS_OXIM_SAT_O2: PERCENT,
    MdcCode.PRESS_BLD_NONINV_SYS: MMHG,
    MdcCode.PRESS_BLD_NONINV_DIA: MMHG,
    MdcCode.PRESS_BLD_NONINV_MEAN: MMHG,
    MdcCode.PRESS_BLD_ART_SYS: MMHG,
    MdcCode.PRESS_BLD_ART_DIA: MMHG,
    MdcCode.PRESS_BLD_ART_MEAN: MMHG,
    MdcCode.TEMP_BODY: DEGC,
}

# OBX-4 containment: which virtual medical device (VMD) of the monitor a numeric belongs to, and its
# channel. Ordinals only (IHE PCD TF-2 appendix): the receiver reads the tree, not fixed numbers.
VMD_OF: dict[MdcCode, tuple[int, int]] = {
    MdcCode.ECG_HEART_RATE: (1, 1),
    MdcCode.PULS_OXIM_SAT_O2: (2, 1),
    MdcCode.PULS_OXIM_PULS_RATE: (2, 1),
    MdcCode.PULS_RATE: (2, 1),
    MdcCode.RESP_RATE: (3, 1),
    MdcCode.PRESS_BLD_NONINV_SYS: (4, 1),
    MdcCode.PRESS_BLD_NONINV_DIA: (4, 1),
    MdcCode.PRESS_BLD_NONINV_MEAN: (4, 1),
    MdcCode.PRESS_BLD_ART_SYS: (5, 1),
    MdcCode.PRESS_BLD_ART_DIA: (5, 1),
    MdcCode.PRESS_BLD_ART_MEAN: (5, 1),
    MdcCode.TEMP_BODY: (6, 1),
}

# The vital-signs profile wants its own LOINC first; SpO2 carries both oxygen-saturation codes.
LOINC_CODES: dict[MdcCode, tuple[tuple[str, str], ...]] = {
    MdcCode.ECG_HEART_RATE: (("8867-4", "Heart rate"),),
    MdcCode.PULS_OXIM_PULS_RATE: (("8867-4", "Heart rate"),),
    MdcCode.PULS_RATE: (("8867-4", "Heart rate"),),
    MdcCode.RESP_RATE: (("9279-1", "Respiratory rate"),),
    MdcCode.PULS_OXIM_SAT_O2: (
        ("2708-6", "Oxygen saturation in Arterial blood"),
        ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
    ),
    MdcCode.TEMP_BODY: (("8310-5", "Body temperature"),),
    MdcCode.PRESS_BLD_NONINV_SYS: (("8480-6", "Systolic blood pressure"),),
    MdcCode.PRESS_BLD_NONINV_DIA: (("8462-4", "Diastolic blood pressure"),),
    MdcCode.PRESS_BLD_NONINV_MEAN: (("8478-0", "Mean blood pressure"),),
    MdcCode.PRESS_BLD_ART_SYS: (("76215-3", "Invasive Systolic blood pressure"),),
    MdcCode.PRESS_BLD_ART_DIA: (("76213-8", "Invasive Diastolic blood pressure"),),
    MdcCode.PRESS_BLD_ART_MEAN: (("76214-6", "Invasive Mean blood pressure"),),
}

BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
NIBP_PARTS = (MdcCode.PRESS_BLD_NONINV_SYS, MdcCode.PRESS_BLD_NONINV_DIA, MdcCode.PRESS_BLD_NONINV_MEAN)
ART_PARTS = (MdcCode.PRESS_BLD_ART_SYS, MdcCode.PRESS_BLD_ART_DIA, MdcCode.PRESS_BLD_ART_MEAN)

MDS_ROW = (69965, "MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS")


def reported(code: MdcCode) -> bool:
    """Numerics the interfaces send (waves and unknown channels are left out)."""
    return code in MDC_UNITS


def ref_id(code: MdcCode) -> str:
    return channel_table()[code].ref_id


def ucum(code: MdcCode) -> str:
    return channel_table()[code].ucum
