"""Verification of arrhythmia alarms against every available signal (ECG leads, pleth, arterial pressure).

`detect_arrhythmias` and `verify_alarm` are loaded on first use: they need scipy, which the station's
own process does not (the analysis runs in a worker process), and which costs it ~60 MB to import.
"""

from __future__ import annotations

from typing import Any

from wardwatch.app.verify.alarm_types import ArrhythmiaType, Verdict

__all__ = ["ArrhythmiaType", "Verdict", "detect_arrhythmias", "verify_alarm"]


def __getattr__(name: str) -> Any:
    if name in ("detect_arrhythmias", "verify_alarm"):
        from wardwatch.app.verify import decide

        return getattr(decide, name)
    raise AttributeError(name)
