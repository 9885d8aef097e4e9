"""Which WFDB signal names become which WardWatch channels, and in which unit.

A table, not a chain of ifs: adding a signal name means adding a row. Names are matched whole and
case-insensitively, first row wins, so the specific leads come before the catch-all ECG row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from wardwatch.app.codes import MdcCode, info

# (pattern matched against the whole signal name, channel code). The label shown on screen is always
# the record's own signal name, so a modified lead ("MLII") stays distinguishable from a true lead II.
SIGNAL_TABLE: tuple[tuple[str, MdcCode], ...] = (
    (r"(ML)?II", MdcCode.ECG_ELEC_POTL_II),
    (r"(ML)?III", MdcCode.ECG_ELEC_POTL_III),
    (r"(ML)?I", MdcCode.ECG_ELEC_POTL_I),
    (r"aVR", MdcCode.ECG_ELEC_POTL_AVR),
    (r"aVL", MdcCode.ECG_ELEC_POTL_AVL),
    (r"aVF", MdcCode.ECG_ELEC_POTL_AVF),
    (r"V5", MdcCode.ECG_ELEC_POTL_V5),
    # Leads without a code of their own (an unnamed chest lead, MCL, V1..V6 but V5): the generic code.
    (r"V[1-6]?|MCL[1-6]?|ECG[0-9]*", MdcCode.ECG_ELEC_POTL),
    (r"PLETH", MdcCode.PULS_OXIM_PLETH),
    (r"ABP|ART", MdcCode.PRESS_BLD_ART_ABP),
    (r"RESP", MdcCode.RESP),
)

_COMPILED: tuple[tuple[re.Pattern[str], MdcCode], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), code) for pattern, code in SIGNAL_TABLE
)

# WFDB headers write units as people do; the station speaks UCUM.
UNIT_TO_UCUM: dict[str, str] = {
    "mV": "mV",
    "uV": "uV",
    "µV": "uV",
    "V": "V",
    "mmHg": "mm[Hg]",
    "NU": "1",
}


def code_for(signal_name: str) -> MdcCode | None:
    """The channel code of a WFDB signal name, or None if WardWatch does not know the signal."""
    name = signal_name.strip()
    for pattern, code in _COMPILED:
        if pattern.fullmatch(name):
            return code
    return None


def ucum_unit(wfdb_unit: str | None, code: MdcCode) -> str:
    """The UCUM form of a header unit; an empty unit means the channel's usual one, an unknown one is kept."""
    unit = (wfdb_unit or "").strip()
    if not unit:
        return info(code).ucum
    return UNIT_TO_UCUM.get(unit, unit)


@dataclass(frozen=True, slots=True)
class SignalChoice:
    """What becomes of signal `index` of a record: shown as `code`, or skipped for `reason`."""

    index: int
    name: str
    code: MdcCode | None
    reason: str = ""


def choose_signals(names: Sequence[str]) -> tuple[SignalChoice, ...]:
    """Map every signal name; the first signal of a code wins, later ones with the same code are skipped."""
    taken: dict[MdcCode, str] = {}
    choices: list[SignalChoice] = []
    for index, name in enumerate(names):
        code = code_for(name)
        if code is None:
            choices.append(SignalChoice(index, name, None, "unknown signal"))
        elif code in taken:
            choices.append(SignalChoice(index, name, None, f"same channel as signal {taken[code]!r}"))
        else:
            taken[code] = name
            choices.append(SignalChoice(index, name, code))
    return tuple(choices)
