"""A fingerstick (capillary blood) glucose entered by a nurse: the one nurse action of the device fleet.

`enter_fingerstick` is that action, in one function, so that the users issue's authorisation check can
wrap it (who may enter a value) without touching the dialog.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import Observation, Validity

if TYPE_CHECKING:
    from wardwatch.app.station import Station

MG_DL_PER_MMOL_L = 18.016  # glucose, 180.16 g/mol
RANGE_MG_DL = (10.0, 600.0)  # what capillary meters display; outside it they show LO / HI


def mmol_to_mg_dl(mmol_l: float) -> float:
    return mmol_l * MG_DL_PER_MMOL_L


def enter_fingerstick(station: Station, bed_id: str, mg_dl: float, user: str) -> Observation:
    """Put a fingerstick glucose on the bed (numerics, trend, record) and journal who entered it.
    Raises ValueError (message for the user) for a value no meter gives, WardError for an unknown bed."""
    low, high = RANGE_MG_DL
    if not (math.isfinite(mg_dl) and low <= mg_dl <= high):
        raise ValueError(f"a fingerstick glucose is between {low:g} and {high:g} mg/dL")
    station.bed(bed_id)  # WardError if there is no such bed
    obs = Observation(
        bed_id,
        MdcCode.CONC_GLU_CAPILLARY_WHOLEBLOOD,
        float(round(mg_dl)),
        "mg/dL",
        station.clock.now(),
        Validity.VALID,
        "fingerstick",
    )
    station.hub.push_observation(obs, from_monitor=False)
    # the value and the nurse, as NEWS2 entries are journaled; never the patient
    station.alarms.record_entry(bed_id, f"fingerstick glucose {obs.value:.0f} mg/dL", user)
    return obs
