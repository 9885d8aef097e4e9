"""Live arrhythmia analysis of one bed: the last seconds of every wave from the hub, screened for
arrhythmias and each candidate checked against all the other signals before it may sound.

This runs the very same `detect_arrhythmias` and `verify_alarm` as `wardwatch eval alarms`, on the
bed's waves resampled onto one 250 Hz grid that ends at the newest sample every channel has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
from wardwatch.app.alarms.findings import ARRHYTHMIA_PREFIX, Finding
from wardwatch.app.alarms.model import Category, Priority
from wardwatch.app.alarms.settings import AlarmSettings
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import TechnicalKind
from wardwatch.app.hub import BedStreams
from wardwatch.app.verify.alarm_types import ArrhythmiaType

ANALYSIS_FS = 250.0
# A channel whose newest sample is this much older than the freshest channel's is left out rather
# than holding the whole analysis back.
MAX_LAG_S = 2.0

# Channel names as the PhysioNet records (and the verification) know them.
CHANNEL_NAMES: Mapping[MdcCode, str] = MappingProxyType(
    {
        MdcCode.ECG_ELEC_POTL_II: "II",
        MdcCode.ECG_ELEC_POTL_I: "I",
        MdcCode.ECG_ELEC_POTL_III: "III",
        MdcCode.ECG_ELEC_POTL_AVR: "aVR",
        MdcCode.ECG_ELEC_POTL_AVL: "aVL",
        MdcCode.ECG_ELEC_POTL_AVF: "aVF",
        MdcCode.ECG_ELEC_POTL_V5: "V",
        MdcCode.ECG_ELEC_POTL: "MCL",
        MdcCode.PULS_OXIM_PLETH: "PLETH",
        MdcCode.PRESS_BLD_ART_ABP: "ABP",
        MdcCode.RESP: "RESP",
    }
)
_ECG_NAMES = frozenset({"II", "I", "III", "aVR", "aVL", "aVF", "V", "MCL"})

MESSAGES: Mapping[ArrhythmiaType, str] = MappingProxyType(
    {
        ArrhythmiaType.ASYSTOLE: "Asystole",
        ArrhythmiaType.BRADYCARDIA: "Extreme brady",
        ArrhythmiaType.TACHYCARDIA: "Extreme tachy",
        ArrhythmiaType.VENTRICULAR_TACHYCARDIA: "V-tach",
        ArrhythmiaType.VENTRICULAR_FLUTTER_FIB: "V-fib/flutter",
    }
)


RawWave = tuple[npt.NDArray[np.float64], npt.NDArray[np.floating]]  # sample times, values


def channels_off(kinds: Iterable[TechnicalKind]) -> frozenset[str]:
    """Channel names a technical condition says are off: a flat line from a loose electrode or a
    dropped probe must not be read as asystole."""
    off: set[str] = set()
    for kind in kinds:
        if kind is TechnicalKind.LEAD_OFF:
            off |= _ECG_NAMES
        elif kind is TechnicalKind.SENSOR_OFF:
            off.add("PLETH")
    return frozenset(off)


def gather_signals(
    streams: BedStreams, window_s: float, fs: float = ANALYSIS_FS
) -> dict[str, npt.NDArray[np.float64]]:
    """The bed's waves over the last `window_s` on one grid of rate `fs` (NaN where a channel had no
    sample), leaving out the channels a technical condition says are off."""
    off = channels_off(list(streams.conditions))
    raw: dict[str, RawWave] = {}
    for code, channel in list(streams.waves.items()):
        name = CHANNEL_NAMES.get(code)
        if name is None or name in off:
            continue
        chunk = channel.ring.latest(int(window_s * channel.rate) + 8)
        raw[name] = (chunk.times, chunk.values)
    return resample(raw, window_s, fs)


def resample(
    raw: Mapping[str, RawWave], window_s: float, fs: float = ANALYSIS_FS
) -> dict[str, npt.NDArray[np.float64]]:
    """Waves sampled at their own times onto one grid of rate `fs` over the last `window_s`, ending at
    the newest time every channel has reached (channels lagging more than MAX_LAG_S are left out).
    A gap in a channel's data (a dropout) stays NaN, not a straight line across it."""
    waves = {name: (t, v) for name, (t, v) in raw.items() if len(t) >= 2}
    if not waves:
        return {}
    newest = {name: float(t[-1]) for name, (t, _v) in waves.items()}
    freshest = max(newest.values())
    keep = {n: w for n, w in waves.items() if freshest - newest[n] <= MAX_LAG_S}
    end = min(newest[n] for n in keep)
    n = round(window_s * fs)
    grid = end - (n - 1) / fs + np.arange(n) / fs
    out: dict[str, npt.NDArray[np.float64]] = {}
    for name, (times, values) in keep.items():
        y = np.interp(grid, times, values.astype(np.float64, copy=False), left=np.nan, right=np.nan)
        step = np.diff(times)
        usual = float(np.median(step))
        if np.any(step > 3.0 * usual):
            idx = np.searchsorted(times, grid, side="right")
            idx = np.clip(idx, 1, len(times) - 1)
            y[(times[idx] - times[idx - 1]) > 3.0 * usual] = np.nan
        out[name] = y
    return out


def analyse_signals(
    signals: Mapping[str, npt.NDArray[np.float64]], settings: AlarmSettings, fs: float = ANALYSIS_FS
) -> list[Finding]:
    """Screen the signals, verify each candidate, and say so in findings (held back or not)."""
    return analyse_window(signals, settings.arrhythmia_priority, fs)


def analyse_window(
    signals: Mapping[str, npt.NDArray[np.float64]], priority: Priority, fs: float = ANALYSIS_FS
) -> list[Finding]:
    """`analyse_signals` with plain arguments, so it can run in a worker process."""
    from wardwatch.app.verify.decide import detect_arrhythmias, verify_alarm  # scipy: worker side only

    if not any(name in _ECG_NAMES for name in signals):
        return []
    findings: list[Finding] = []
    for kind in detect_arrhythmias(signals, fs):
        verdict = verify_alarm(kind, signals, fs)
        findings.append(
            Finding(
                key=ARRHYTHMIA_PREFIX + kind.value,
                category=Category.ARRHYTHMIA,
                priority=priority,
                message=MESSAGES.get(kind, kind.value),
                latching=True,
                held_back=not verdict.sound,
                reason=verdict.reason,
                evidence=dict(verdict.evidence),
            )
        )
    return findings


SettingsFor = Callable[[str], AlarmSettings]
