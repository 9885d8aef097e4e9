"""What the fleet widgets write about a bed's pumps and glucose (text only, from memory, no Qt)."""

from __future__ import annotations

from dataclasses import dataclass

from wardwatch.app.codes import MdcCode
from wardwatch.app.fleet.glucose import bed_glucose
from wardwatch.app.fleet.model import DELIVERING, PumpReport, PumpState
from wardwatch.app.fleet.rules import PUMP_SILENCE_S
from wardwatch.app.station import Station

CGM_CURRENT_S = 900.0


@dataclass(frozen=True, slots=True)
class FleetLine:
    text: str
    alert: bool = False  # shown in the alarm's colour (the pump stopped against the nurse's will)
    stale: bool = False
    # the leading part that may be shortened when room is short (a drug's name), so that the rate and
    # the time left, which come after it, are never the part cut off
    name: str = ""


def short_duration(seconds: float | None) -> str:
    """'10h05' or '8 min': the sector strip has room for little."""
    if seconds is None:
        return "--"
    hours, minutes = divmod(max(0, round(seconds / 60.0)), 60)
    return f"{hours}h{minutes:02d}" if hours else f"{minutes} min"


def pump_line(report: PumpReport, now: float) -> FleetLine:
    p = report.programme
    if now - report.time > PUMP_SILENCE_S:
        return FleetLine(f"{p.drug}  -?- mL/h  no data", stale=True)
    if report.state in DELIVERING:
        left = short_duration(report.time_remaining_s)
        near = " NEAR END" if report.state is PumpState.NEAR_END else ""
        battery = " BATT LOW" if report.battery_low else ""
        return FleetLine(
            f"{p.drug} {p.rate_ml_h:g} mL/h  {left}{near}{battery}", alert=bool(near or battery), name=p.drug
        )
    return FleetLine(f"{p.drug}  {report.state.value.upper()}", alert=report.state is not PumpState.PAUSED)


def glucose_line(station: Station, bed_id: str, now: float) -> FleetLine | None:
    streams = station.hub.streams(bed_id)
    trend = bed_glucose(streams)
    if trend is None:
        return None
    if now - trend.time > CGM_CURRENT_S:
        return FleetLine("CGM -?- mg/dL", stale=True)
    rate = f" {trend.rate_text}" if trend.rate is not None else ""
    low = trend.value < 70.0
    return FleetLine(f"CGM {trend.value:.0f} mg/dL {trend.arrow}{rate}".rstrip(), alert=low)


def fingerstick_text(station: Station, bed_id: str) -> str:
    obs = station.hub.latest(bed_id, MdcCode.CONC_GLU_CAPILLARY_WHOLEBLOOD)
    if obs is None:
        return ""
    import datetime as dt

    return f"BG {obs.value:.0f} mg/dL at {dt.datetime.fromtimestamp(obs.time).strftime('%H:%M')}"


def bed_lines(station: Station, bed_id: str, now: float) -> list[FleetLine]:
    """The bed's pumps (one line each) and its glucose, for the tile's strip."""
    lines = [pump_line(d.pump, now) for d in station.bed_devices.on_bed(bed_id) if d.pump is not None]
    glucose = glucose_line(station, bed_id, now)
    if glucose is not None:
        lines.append(glucose)
    return lines
