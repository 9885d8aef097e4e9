"""Channel vocabulary: IEEE 11073 MDC codes with LOINC and UCUM, loaded from the table in resources/."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from functools import cache
from importlib import resources


class MdcCode(IntEnum):
    """32-bit MDC codes (partition × 65536 + term) of the channels WardWatch knows."""

    ECG_HEART_RATE = 147842
    PULS_OXIM_SAT_O2 = 150456
    PULS_OXIM_PULS_RATE = 149530
    PULS_RATE = 149514
    RESP_RATE = 151562
    PRESS_BLD_NONINV_SYS = 150021
    PRESS_BLD_NONINV_DIA = 150022
    PRESS_BLD_NONINV_MEAN = 150023
    PRESS_BLD_ART_SYS = 150033
    PRESS_BLD_ART_DIA = 150034
    PRESS_BLD_ART_MEAN = 150035
    TEMP_BODY = 150364
    ECG_ELEC_POTL = 131328
    ECG_ELEC_POTL_I = 131329
    ECG_ELEC_POTL_II = 131330
    ECG_ELEC_POTL_III = 131389
    ECG_ELEC_POTL_AVR = 131390
    ECG_ELEC_POTL_AVL = 131391
    ECG_ELEC_POTL_AVF = 131392
    ECG_ELEC_POTL_V5 = 131335
    PULS_OXIM_PLETH = 150452
    RESP = 151552
    PRESS_BLD_ART_ABP = 150036
    CONC_GLU_ISF = 160212  # continuous glucose (CGM), interstitial fluid
    CONC_GLU_CAPILLARY_WHOLEBLOOD = 160184  # fingerstick glucose
    RISK_DETERIORATION = 192800  # WardWatch's hourly deterioration risk (a manufacturer-specific code)


class ChannelKind(StrEnum):
    WAVE = "wave"
    NUMERIC = "numeric"


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """One row of resources/channels.toml."""

    code: MdcCode
    key: str
    ref_id: str
    loinc: str | None
    ucum: str
    unit_label: str
    label: str
    kind: ChannelKind
    colour: str
    verified: bool
    max_age_s: float | None = None


@cache
def channel_table() -> dict[MdcCode, ChannelInfo]:
    """The code table, read once from the package resources."""
    raw = tomllib.loads(resources.files("wardwatch.resources").joinpath("channels.toml").read_text("utf-8"))
    table: dict[MdcCode, ChannelInfo] = {}
    for row in raw["channel"]:
        code = MdcCode(row["mdc"])
        table[code] = ChannelInfo(
            code=code,
            key=row["key"],
            ref_id=row["ref_id"],
            loinc=row.get("loinc"),
            ucum=row["ucum"],
            unit_label=row["unit_label"],
            label=row["label"],
            kind=ChannelKind(row["kind"]),
            colour=row["colour"],
            verified=bool(row["verified"]),
            max_age_s=row.get("max_age_s"),
        )
    return table


def info(code: MdcCode) -> ChannelInfo:
    return channel_table()[code]


ECG_LEADS: tuple[MdcCode, ...] = (
    MdcCode.ECG_ELEC_POTL_II,
    MdcCode.ECG_ELEC_POTL_I,
    MdcCode.ECG_ELEC_POTL_III,
    MdcCode.ECG_ELEC_POTL_AVR,
    MdcCode.ECG_ELEC_POTL_AVL,
    MdcCode.ECG_ELEC_POTL_AVF,
    MdcCode.ECG_ELEC_POTL_V5,
    MdcCode.ECG_ELEC_POTL,
)


def is_ecg(code: MdcCode) -> bool:
    return code in ECG_LEADS
