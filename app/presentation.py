"""What a bed sector shows, decided without Qt: which waves, which numerics, how current, which message.

The widgets only paint a `BedSummary`; keeping the choices here makes them testable and keeps the
rules (stale values greyed, invalid values never shown as valid) in one place.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from wardwatch.app.codes import ECG_LEADS, MdcCode, info
from wardwatch.app.domain import TECHNICAL_TEXT, Bed, LinkState, Observation, TechnicalKind, Validity
from wardwatch.app.hub import BedStreams

NO_VALUE = "-?-"  # measured, but not valid or not current
NOT_MEASURED = "---"  # nothing measures this parameter on this bed

# Order of the waves below the primary ECG, as on a bedside monitor.
SECONDARY_WAVES: tuple[MdcCode, ...] = (MdcCode.PRESS_BLD_ART_ABP, MdcCode.PULS_OXIM_PLETH, MdcCode.RESP)

# Technical conditions in the order they win the sector's message area.
CONDITION_RANK: tuple[TechnicalKind, ...] = (
    TechnicalKind.SOURCE_FAILED,
    TechnicalKind.DISCONNECTED,
    TechnicalKind.NO_SIGNAL,
    TechnicalKind.LEAD_OFF,
    TechnicalKind.SENSOR_OFF,
    TechnicalKind.POOR_SIGNAL,
    TechnicalKind.DATA_ERROR,
    TechnicalKind.LOW_BATTERY,
)


class Freshness(StrEnum):
    CURRENT = "current"
    STALE = "stale"  # older than the parameter's validity: greyed with its time
    INVALID = "invalid"  # the source says the value is not valid: shown as -?-
    ABSENT = "absent"  # never measured on this bed: shown as ---


@dataclass(frozen=True, slots=True)
class NumericView:
    label: str
    unit: str
    text: str
    colour: str
    freshness: Freshness
    time_text: str = ""  # measurement time for intermittent values (NIBP) and stale ones
    code: MdcCode | None = None  # the channel shown (the systolic one for a pressure)


@dataclass(frozen=True, slots=True)
class BedSummary:
    label: str
    patient_text: str
    message: str  # the sector's message area ("Leads off", "No signal", ...), "" when none
    message_kind: TechnicalKind | None
    link_text: str
    link_state: LinkState | None
    waves: tuple[MdcCode, ...]
    numerics: tuple[NumericView, ...]
    occupied: bool


def choose_waves(available: Iterable[MdcCode], max_waves: int = 4) -> tuple[MdcCode, ...]:
    codes = set(available)
    primary = next((c for c in ECG_LEADS if c in codes), None)
    chosen = [primary] if primary is not None else []
    chosen += [c for c in SECONDARY_WAVES if c in codes]
    return tuple(chosen[:max_waves])


def _format(value: float, code: MdcCode) -> str:
    if code in (MdcCode.TEMP_BODY,):
        return f"{value:.1f}"
    return f"{value:.0f}"


def freshness(obs: Observation | None, now: float) -> Freshness:
    if obs is None:
        return Freshness.ABSENT
    if obs.validity is Validity.INVALID or not math.isfinite(obs.value):
        return Freshness.INVALID
    max_age = info(obs.code).max_age_s
    if max_age is not None and now - obs.time > max_age:
        return Freshness.STALE
    return Freshness.CURRENT


def minute_clock_text(t: float) -> str:
    """The local clock time, as "12:03"; "--:--" for a time no clock can show (a remote station's), because
    this text is painted on every tick and one bad time must not stop the page."""
    try:
        return dt.datetime.fromtimestamp(t).strftime("%H:%M")
    except (ValueError, OverflowError, OSError):
        return "--:--"


def numeric_view(obs: Observation | None, code: MdcCode, now: float, label: str | None = None) -> NumericView:
    ci = info(code)
    state = freshness(obs, now)
    if state in (Freshness.CURRENT, Freshness.STALE) and obs is not None:
        text = _format(obs.value, code)
    else:
        text = NOT_MEASURED if state is Freshness.ABSENT else NO_VALUE
    time_text = minute_clock_text(obs.time) if obs is not None and state is Freshness.STALE else ""
    return NumericView(label or ci.label, ci.unit_label, text, ci.colour, state, time_text, code)


def _pressure_view(
    numerics: dict[MdcCode, Observation],
    codes: tuple[MdcCode, MdcCode, MdcCode],
    now: float,
    label: str,
    always_time: bool,
) -> NumericView | None:
    sys_obs, dia_obs, mean_obs = (numerics.get(c) for c in codes)
    if sys_obs is None:
        return None
    ci = info(codes[0])
    state = freshness(sys_obs, now)
    if state in (Freshness.CURRENT, Freshness.STALE):
        dia = f"{dia_obs.value:.0f}" if dia_obs is not None and math.isfinite(dia_obs.value) else NO_VALUE
        text = f"{sys_obs.value:.0f}/{dia}"
        if mean_obs is not None and math.isfinite(mean_obs.value):
            text += f" ({mean_obs.value:.0f})"
    else:
        text = NO_VALUE
    time_text = minute_clock_text(sys_obs.time) if always_time or state is Freshness.STALE else ""
    return NumericView(label, ci.unit_label, text, ci.colour, state, time_text, codes[0])


NIBP_CODES = (MdcCode.PRESS_BLD_NONINV_SYS, MdcCode.PRESS_BLD_NONINV_DIA, MdcCode.PRESS_BLD_NONINV_MEAN)
ART_CODES = (MdcCode.PRESS_BLD_ART_SYS, MdcCode.PRESS_BLD_ART_DIA, MdcCode.PRESS_BLD_ART_MEAN)
PULSE_CODES = (MdcCode.PULS_OXIM_PULS_RATE, MdcCode.PULS_RATE)


def choose_numerics(numerics: dict[MdcCode, Observation], now: float) -> tuple[NumericView, ...]:
    """HR (or pulse rate when no ECG), SpO2, arterial or NIBP pressure, RR, temperature — in that order."""
    views: list[NumericView] = []
    hr = numerics.get(MdcCode.ECG_HEART_RATE)
    if hr is not None:
        views.append(numeric_view(hr, MdcCode.ECG_HEART_RATE, now))
    else:
        pulse_code = next((c for c in PULSE_CODES if c in numerics), None)
        if pulse_code is not None:
            views.append(numeric_view(numerics[pulse_code], pulse_code, now))
        else:
            views.append(numeric_view(None, MdcCode.ECG_HEART_RATE, now))
    views.append(numeric_view(numerics.get(MdcCode.PULS_OXIM_SAT_O2), MdcCode.PULS_OXIM_SAT_O2, now))
    pressure = _pressure_view(numerics, ART_CODES, now, "ART", always_time=False) or _pressure_view(
        numerics, NIBP_CODES, now, "NIBP", always_time=True
    )
    if pressure is not None:
        views.append(pressure)
    views.append(numeric_view(numerics.get(MdcCode.RESP_RATE), MdcCode.RESP_RATE, now))
    if MdcCode.TEMP_BODY in numerics:
        views.append(numeric_view(numerics[MdcCode.TEMP_BODY], MdcCode.TEMP_BODY, now))
    return tuple(views)


def top_condition(streams: BedStreams | None) -> tuple[str, TechnicalKind | None]:
    if streams is None:
        return "", None
    active = streams.conditions
    for kind in CONDITION_RANK:
        cond = active.get(kind)
        if cond is not None:
            text = TECHNICAL_TEXT[kind]
            if kind is TechnicalKind.SOURCE_FAILED and cond.detail:
                text = f"{text}: {cond.detail}"
            elif kind is TechnicalKind.DISCONNECTED and "; " in cond.detail:
                text = f"{text}: {cond.detail.split('; ')[0]}"  # the source's reason, without the timing
            return text, kind
    return "", None


# A device's newest data older than this is said on its badge (before the supervisor's 4 s "no signal"),
# so that a nurse sees a link faltering, not only one that has failed.
STALE_AFTER_S = 2.0


WEAK_RSSI_DBM = -85  # below about -85 dBm BLE links start to drop packets


def link_text(streams: BedStreams | None, now: float | None = None) -> tuple[str, LinkState | None]:
    if streams is None or streams.status is None:
        return "no source", None
    st = streams.status
    label = {"sim": "SIM", "replay": "REPLAY", "ble": "BLE", "serial": "SERIAL"}.get(st.kind, st.kind.upper())
    detail = f" {st.detail}" if st.detail and st.kind == "replay" else ""
    battery = f" {st.battery_percent:.0f}%" if st.battery_percent is not None else ""
    age = ""
    if now is not None and streams.last_data is not None and st.state is LinkState.CONNECTED:
        seconds = now - streams.last_data
        if seconds > STALE_AFTER_S:
            age = f" data {seconds:.0f} s old"
    if st.state is LinkState.DISCONNECTED:
        age = " link lost"
    loss = f" loss {st.loss_percent:.0f}%" if st.loss_percent is not None and st.loss_percent >= 1.0 else ""
    # a weak radio is worth a glance before it drops; a strong one is not worth the space
    signal = (
        f" weak signal {st.rssi_dbm} dBm" if st.rssi_dbm is not None and st.rssi_dbm <= WEAK_RSSI_DBM else ""
    )
    return f"{label}{detail}{battery}{loss}{signal}{age}", st.state


def no_patient_text(bed: Bed) -> str:
    """A monitored bed without an admission is "not admitted"; a bed with nothing is empty."""
    return "not admitted" if bed.source_spec else "no patient"


def summarise(bed: Bed, streams: BedStreams | None, now: float, mask_names: bool = False) -> BedSummary:
    if bed.patient is None:
        patient_text = no_patient_text(bed)
    elif mask_names:
        patient_text = "•••"
    else:
        patient_text = bed.patient.display_name
    message, kind = top_condition(streams)
    link, state = link_text(streams, now)
    waves = choose_waves(streams.waves.keys()) if streams is not None else ()
    numerics = choose_numerics(dict(streams.numerics), now) if streams is not None else ()
    return BedSummary(
        label=bed.label,
        patient_text=patient_text,
        message=message,
        message_kind=kind,
        link_text=link,
        link_state=state,
        waves=waves,
        numerics=numerics,
        occupied=bed.patient is not None or bed.source_spec is not None,
    )


GRID_SHAPES: tuple[tuple[int, int, int], ...] = (
    # (max beds, columns, rows): wide sectors, because waves need width more than height
    (1, 1, 1),
    (2, 1, 2),
    (4, 2, 2),
    (6, 2, 3),
    (8, 2, 4),
    (12, 3, 4),
    (16, 4, 4),
    (24, 4, 6),
    (32, 4, 8),
    (48, 6, 8),
    (64, 8, 8),
)


def grid_shape(n_beds: int) -> tuple[int, int]:
    """Columns and rows of the central grid for `n_beds` sectors (fixed ward order, filled row by row)."""
    for limit, cols, rows in GRID_SHAPES:
        if n_beds <= limit:
            return cols, rows
    cols = 8
    return cols, -(-n_beds // cols)
