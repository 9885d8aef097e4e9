"""Verification of arrhythmia alarms against every available signal (ECG leads, pleth, arterial pressure)."""

from wardwatch.app.verify.alarm_types import ArrhythmiaType, Verdict
from wardwatch.app.verify.decide import detect_arrhythmias, verify_alarm

__all__ = ["ArrhythmiaType", "Verdict", "detect_arrhythmias", "verify_alarm"]
