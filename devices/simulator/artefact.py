"""Motion artefact as a pure function of time: large, irregular low-frequency swings that come in bursts.

It is what a restless or shivering patient, or one being turned, puts on every sensor: the ECG
baseline lurches by a millivolt or more (and looks like VT or VF to a naive detector), the pleth
swamps its pulses, the impedance trace loses its breaths. The heart itself is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from wardwatch.devices.simulator.smooth import FloatArray, Wander

_EDGE_S = 0.6  # artefact builds up and dies down over this long


@dataclass(frozen=True, slots=True)
class Motion:
    swings: Wander  # the movement itself, 0.4–3 Hz
    jerks: Wander  # faster components, 3–7 Hz
    bursts: Wander  # how the movement waxes and wanes, 0.1–0.5 Hz

    @classmethod
    def draw(cls, rng: np.random.Generator, amplitude: float) -> Motion:
        return cls(
            swings=Wander.draw(rng, amplitude, 0.4, 3.0, n=4),
            jerks=Wander.draw(rng, 0.3 * amplitude, 3.0, 7.0, n=3),
            bursts=Wander.draw(rng, 0.6, 0.1, 0.5, n=2),
        )

    def envelope(self, times: FloatArray, start: float, end: float) -> FloatArray:
        edges = np.clip((times - start) / _EDGE_S, 0.0, 1.0) * np.clip((end - times) / _EDGE_S, 0.0, 1.0)
        return edges * np.clip(0.7 + self.bursts.over(times), 0.15, 1.3)

    def over(self, times: FloatArray, start: float, end: float) -> FloatArray:
        return self.envelope(times, start, end) * (self.swings.over(times) + self.jerks.over(times))
