"""ECG lead II as pure functions of time: P-QRS-T beats built from Gaussian waves, and the
fibrillatory activity of AF (small f-waves) and VF (chaotic 4–7 Hz oscillation).

Amplitudes are in mV and calibrated to a normal lead II: R about 1.1 mV, P 0.13 mV, T 0.3 mV,
QRS about 80 ms wide in sinus rhythm and about 160 ms (wide, bizarre, discordant T) in VT.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt
from wardwatch.devices.simulator.smooth import FloatArray, Wander


class BeatKind(IntEnum):
    SINUS = 0  # conducted beat: P, narrow QRS, T
    AF = 1  # conducted beat without a P wave
    PVC = 2  # premature ventricular beat: no P, wide QRS, discordant T
    VT = 3  # ventricular tachycardia complex
    P_ONLY = 4  # atrial beat that is not conducted (ventricular standstill)


def has_qrs(kind: npt.NDArray[np.int8]) -> npt.NDArray[np.bool_]:
    """Which beats have a QRS complex (all but the atrial beats of ventricular standstill)."""
    return np.asarray(kind != BeatKind.P_ONLY)


# Wave table: per beat kind, seven Gaussian waves (centre s from the R peak, width σ s, height mV).
# Columns: P, Q, R, S, ST, T, T-tail. Repolarisation columns stretch with the square root of RR
# (Bazett), so the QT shortens as the rate rises, as it does in patients.
_P, _Q, _R, _S, _ST, _T, _TT = range(7)
_MU = np.array(
    [
        [-0.160, -0.027, 0.000, 0.025, 0.120, 0.250, 0.310],  # sinus
        [-0.160, -0.027, 0.000, 0.025, 0.120, 0.250, 0.310],  # AF
        [0.000, -0.035, 0.010, 0.075, 0.150, 0.260, 0.330],  # PVC
        [0.000, -0.040, 0.010, 0.085, 0.140, 0.240, 0.300],  # VT
        [0.000, 0.000, 0.000, 0.000, 0.000, 0.000, 0.000],  # P only (centred on the P wave)
    ]
)
_SIGMA = np.array(
    [
        [0.022, 0.008, 0.0095, 0.009, 0.050, 0.050, 0.030],
        [0.022, 0.008, 0.0095, 0.009, 0.050, 0.050, 0.030],
        [0.022, 0.020, 0.030, 0.028, 0.050, 0.065, 0.040],
        [0.022, 0.020, 0.034, 0.030, 0.050, 0.060, 0.040],
        [0.022, 0.010, 0.010, 0.010, 0.050, 0.050, 0.030],
    ]
)
_HEIGHT = np.array(
    [
        [0.13, -0.09, 1.10, -0.25, 0.03, 0.28, 0.08],
        [0.00, -0.09, 1.10, -0.25, 0.03, 0.28, 0.08],
        [0.00, -0.15, 1.35, -0.45, 0.00, -0.40, -0.10],
        [0.00, 0.20, 1.30, -0.60, 0.00, -0.35, 0.00],
        [0.14, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00],
    ]
)
_STRETCH = np.array([False, False, False, False, True, True, True])
_T_WAVES = np.array([False, False, False, False, True, True, True])

# Beyond this many σ a Gaussian wave is below 1 µV: skip it.
_REACH_SIGMAS = 5.0


@dataclass(frozen=True, slots=True, eq=False)
class BeatArrays:
    """Beats of a time window, one entry per beat (see `rhythm.BeatTrain`)."""

    time: FloatArray  # R peak (or P peak for P_ONLY), seconds
    kind: npt.NDArray[np.int8]
    amp: FloatArray  # overall QRS scale
    twave: FloatArray  # T-wave scale
    rr_prev: FloatArray  # interval to the previous beat, seconds
    pulse: FloatArray  # pleth pulse height (0: no pulse)
    pulse_scale: FloatArray  # pleth pulse time stretch

    def __len__(self) -> int:
        return len(self.time)

    def select(self, mask: npt.NDArray[np.bool_]) -> BeatArrays:
        return BeatArrays(
            self.time[mask],
            self.kind[mask],
            self.amp[mask],
            self.twave[mask],
            self.rr_prev[mask],
            self.pulse[mask],
            self.pulse_scale[mask],
        )


def gaussian_sum(
    times: FloatArray, centres: FloatArray, sigmas: FloatArray, heights: FloatArray
) -> FloatArray:
    """Σ heights·exp(-½((t-centre)/σ)²), each wave evaluated only where it is not negligible."""
    out = np.zeros(len(times))
    if len(times) == 0 or len(centres) == 0:
        return out
    keep = (
        (heights != 0.0)
        & (centres + _REACH_SIGMAS * sigmas >= times[0])
        & (centres - _REACH_SIGMAS * sigmas <= times[-1])
    )
    centres, sigmas, heights = centres[keep], sigmas[keep], heights[keep]
    if len(centres) == 0:
        return out
    z = (times[None, :] - centres[:, None]) / sigmas[:, None]
    np.square(z, out=z)
    z *= -0.5
    np.exp(z, out=z)
    z *= heights[:, None]
    return np.asarray(z.sum(axis=0), dtype=np.float64)


# A beat's waves all lie within this span around its R peak (the widest: a PVC's T wave at slow rates).
_WINDOW_S = (-0.30, 0.70)
# Repolarisation stretch is tabulated in steps this fine: 3 ms or less of T-wave position.
_Q_MIN, _Q_MAX, _Q_STEP = 0.55, 1.2, 0.02
ECG_RATE = 250.0


def _stretch(rr_prev: FloatArray) -> FloatArray:
    return np.asarray(np.clip(np.sqrt(rr_prev), _Q_MIN, _Q_MAX), dtype=np.float64)


def render_beats_exact(times: FloatArray, beats: BeatArrays) -> FloatArray:
    """The P-QRS-T waves of `beats` at arbitrary `times` (mV), evaluated wave by wave.

    The reference the tabulated `BeatTemplates` are checked against; too slow for 64 live beds.
    """
    if len(beats) == 0:
        return np.zeros(len(times))
    kind = beats.kind.astype(np.intp)
    q = _stretch(beats.rr_prev)
    stretch = np.where(_STRETCH[None, :], q[:, None], 1.0)
    centres = beats.time[:, None] + _MU[kind] * stretch
    sigmas = _SIGMA[kind] * stretch
    heights = _HEIGHT[kind] * beats.amp[:, None] * np.where(_T_WAVES[None, :], beats.twave[:, None], 1.0)
    return gaussian_sum(times, centres.ravel(), sigmas.ravel(), heights.ravel())


@dataclass(frozen=True, slots=True, eq=False)
class BeatTemplates:
    """Beat shapes precomputed on a grid `oversample` times finer than the output rate, so that drawing
    a beat is a lookup: the depolarisation (P and QRS) per kind, the repolarisation (ST and T) per kind
    and per stretch. A beat lands on the nearest fine-grid point (within 1/(2·rate·oversample) s)."""

    rate: float
    oversample: int
    depol: npt.NDArray[np.float32]  # (kind, fine sample)
    repol: npt.NDArray[np.float32]  # (kind, stretch bin, fine sample)

    @classmethod
    def build(cls, rate: float, oversample: int = 8) -> BeatTemplates:
        fine = rate * oversample
        n_fine = math.ceil((_WINDOW_S[1] - _WINDOW_S[0]) * rate) * oversample + oversample
        tau = _WINDOW_S[0] + np.arange(n_fine) / fine
        q_bins = _Q_MIN + _Q_STEP * np.arange(round((_Q_MAX - _Q_MIN) / _Q_STEP) + 1)

        def waves(mu: FloatArray, sigma: FloatArray, height: FloatArray) -> FloatArray:
            z = (tau[None, :] - mu[:, None]) / sigma[:, None]
            return np.asarray((height[:, None] * np.exp(-0.5 * z * z)).sum(axis=0))

        depol = np.stack(
            [
                waves(_MU[k, ~_STRETCH], _SIGMA[k, ~_STRETCH], _HEIGHT[k, ~_STRETCH])
                for k in range(len(BeatKind))
            ]
        )
        mu, sigma, height = _MU[:, _STRETCH], _SIGMA[:, _STRETCH], _HEIGHT[:, _STRETCH]
        repol = np.stack(
            [
                np.stack([waves(mu[k] * q, sigma[k] * q, height[k]) for q in q_bins])
                for k in range(len(BeatKind))
            ]
        )
        depol32, repol32 = depol.astype(np.float32), repol.astype(np.float32)
        depol32.setflags(write=False)
        repol32.setflags(write=False)
        return cls(rate, oversample, depol32, repol32)

    def render(self, t_first: float, n: int, beats: BeatArrays) -> FloatArray:
        """The P-QRS-T waves of `beats` at the `n` samples t_first + j / rate (mV)."""
        out = np.zeros(n)
        if len(beats) == 0 or n == 0:
            return out
        rate, over = self.rate, self.oversample
        span = (self.depol.shape[1] - over) // over
        # first output sample inside each beat's window, and where it falls on the fine grid
        first = np.ceil((beats.time + _WINDOW_S[0] - t_first) * rate - 1e-9).astype(np.intp)
        lag = (first / rate + t_first) - (beats.time + _WINDOW_S[0])
        phase = np.rint(lag * rate * over).astype(np.intp)  # 0 … over: the table has room for both ends
        idx = phase[:, None] + over * np.arange(span)[None, :]
        kind = beats.kind.astype(np.intp)[:, None]
        q_bin = np.rint((_stretch(beats.rr_prev) - _Q_MIN) / _Q_STEP).astype(np.intp)[:, None]
        shapes = self.depol[kind, idx] + beats.twave[:, None] * self.repol[kind, q_bin, idx]
        shapes *= beats.amp[:, None]
        for b, lo in enumerate(first.tolist()):
            a, z = max(lo, 0), min(lo + span, n)
            if a < z:
                out[a:z] += shapes[b, a - lo : z - lo]
        return out


# Shared by every simulated bed: computed once, read-only.
LEAD_II_TEMPLATES = BeatTemplates.build(ECG_RATE)


@dataclass(frozen=True, slots=True)
class Fibrillation:
    """Chaotic oscillation: two wandering-frequency oscillators, a harmonic and a wandering envelope.

    VF uses it at 4–7 Hz and about 0.5 mV (decaying from coarse to fine over the first minute);
    AF uses it at 5–8 Hz and about 0.07 mV for the f-waves.
    """

    f1: float
    f2: float
    drift1: Wander  # Hz added to f1
    drift2: Wander
    envelope: Wander  # relative, added to 1
    amplitude: float  # mV
    harmonic_phase: float

    @classmethod
    def draw(
        cls, rng: np.random.Generator, f_centre: float, f_swing: float, amplitude: float
    ) -> Fibrillation:
        return cls(
            f1=f_centre - 0.4 + rng.uniform(-0.2, 0.2),
            f2=f_centre + 0.6 + rng.uniform(-0.2, 0.2),
            drift1=Wander.draw(rng, f_swing, 0.08, 0.5),
            drift2=Wander.draw(rng, 0.6 * f_swing, 0.1, 0.6),
            envelope=Wander.draw(rng, 0.45, 0.15, 0.8),
            amplitude=amplitude,
            harmonic_phase=float(rng.uniform(0, 2 * math.pi)),
        )

    def over(self, times: FloatArray) -> FloatArray:
        two_pi = 2 * math.pi
        ph1 = two_pi * (self.f1 * times + self.drift1.integral(times))
        ph2 = two_pi * (self.f2 * times + self.drift2.integral(times))
        wave = np.sin(ph1) + 0.45 * np.sin(ph2) + 0.2 * np.sin(2 * ph1 + self.harmonic_phase)
        return self.amplitude * (1.0 + self.envelope.over(times)) * wave / 1.3


def vf_envelope(times: FloatArray, onset: float, end: float) -> FloatArray:
    """VF starts coarse and becomes finer as the myocardium tires; edges are tapered, not switched."""
    since = times - onset
    coarse_to_fine = 0.55 + 0.45 * np.exp(-np.maximum(since, 0.0) / 45.0)
    taper = np.clip(since / 0.4, 0.0, 1.0) * np.clip((end - times) / 0.3, 0.0, 1.0)
    return coarse_to_fine * taper
