"""The arrhythmia alarms WardWatch screens for and verifies, and the verdict of a verification."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class ArrhythmiaType(StrEnum):
    """Values are the names used in PhysioNet/CinC 2015 headers (`#Ventricular_Tachycardia`)."""

    ASYSTOLE = "Asystole"
    BRADYCARDIA = "Bradycardia"
    TACHYCARDIA = "Tachycardia"
    VENTRICULAR_TACHYCARDIA = "Ventricular_Tachycardia"
    VENTRICULAR_FLUTTER_FIB = "Ventricular_Flutter_Fib"


@dataclass(frozen=True, slots=True)
class Verdict:
    alarm_type: ArrhythmiaType
    sound: bool  # True: a true alarm, sound it; False: held back as false (shown, with the reason)
    reason: str  # one sentence for a nurse
    evidence: Mapping[str, float] = field(default_factory=dict)
