"""The alarms of the further devices at a bed: pump alarms, their technical states, the predictive
low glucose. Added to the alarm engine with `AlarmEngine.add_rules` (see app/station.py).

Pump priorities after the usual infusion-pump practice: delivery stopped against the nurse's will
(occlusion, battery empty) is high; a stop that needs a nurse soon (door open, infusion complete) is
medium; what is only a reminder (near end, paused for 2 min) is low.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from wardwatch.app.alarms.findings import TECHNICAL_PREFIX, Finding
from wardwatch.app.alarms.model import Category, Priority
from wardwatch.app.alarms.settings import AlarmSettings
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import TECHNICAL_TEXT, LinkState, TechnicalKind
from wardwatch.app.fleet.bed_devices import BedDevices, LiveDevice
from wardwatch.app.fleet.glucose import GlucoseTrend, bed_glucose, predicted_low_finding
from wardwatch.app.fleet.model import PumpReport, PumpState, duration_text
from wardwatch.app.hub import StreamHub
from wardwatch.app.ring import SampleRing

PUMP_SILENCE_S = 10.0  # a pump reports every second
SENSOR_SILENCE_S = 900.0  # a glucose sensor every 1-5 min: three missed readings
PAUSED_REMINDER_S = 120.0

# state → (priority, text, condition delay)
PUMP_ALARMS: MappingProxyType[PumpState, tuple[Priority, str, float]] = MappingProxyType(
    {
        PumpState.OCCLUSION: (Priority.HIGH, "Pump occlusion", 0.0),
        PumpState.BATTERY: (Priority.HIGH, "Pump battery empty", 0.0),
        PumpState.DOOR_OPEN: (Priority.MEDIUM, "Pump door open", 0.0),
        PumpState.END: (Priority.MEDIUM, "Infusion complete", 0.0),
        PumpState.NEAR_END: (Priority.LOW, "Infusion near end", 0.0),
        PumpState.PAUSED: (Priority.LOW, "Pump paused", PAUSED_REMINDER_S),
    }
)
DEVICE_NAMES = {"pump": "Pump", "cgm": "CGM", "ble": "Sensor", "serial": "Device"}


def device_key(device: LiveDevice, what: str) -> str:
    return f"{TECHNICAL_PREFIX}device:{device.source_id}:{what}"


def device_name(device: LiveDevice) -> str:
    kind = device.status.kind if device.status is not None else device.spec.partition(":")[0]
    name = DEVICE_NAMES.get(kind, kind.upper() or "Device")
    if device.pump is not None:
        name = f"{name} {device.pump.programme.drug}"
    return name


def pump_findings(device: LiveDevice, report: PumpReport) -> list[Finding]:
    out: list[Finding] = []
    alarm = PUMP_ALARMS.get(report.state)
    drug = report.programme.drug
    if alarm is not None:
        priority, text, delay = alarm
        message = f"{text} — {drug}"
        if report.state is PumpState.NEAR_END:
            message += f", {duration_text(report.time_remaining_s)} left"
        out.append(
            Finding(
                key=device_key(device, report.state.name.lower()),
                category=Category.TECHNICAL,
                priority=priority,
                message=message,
                delay_s=delay,
                reason=f"{report.programme.rate_ml_h:g} mL/h, {report.volume_infused_ml:.1f} of "
                f"{report.programme.vtbi_ml:g} mL infused",
                evidence=MappingProxyType(
                    {"volume_infused_ml": report.volume_infused_ml, "rate_ml_h": report.programme.rate_ml_h}
                ),
            )
        )
    if report.battery_low and report.state is not PumpState.BATTERY:
        level = f" {report.battery_percent:.0f} %" if report.battery_percent is not None else ""
        out.append(
            Finding(
                key=device_key(device, "battery_low"),
                category=Category.TECHNICAL,
                priority=Priority.MEDIUM,
                message=f"Pump battery low{level} — {drug}",
                reason="running on battery; connect it to mains",
            )
        )
    return out


def device_findings(device: LiveDevice, now: float, settings: AlarmSettings) -> list[Finding]:
    """A further device's own alarms: its pump state, its technical conditions, its silence."""
    out: list[Finding] = []
    name = device_name(device)
    if device.pump is not None and now - device.pump.time <= PUMP_SILENCE_S:
        out += pump_findings(device, device.pump)
    for kind, (_since, detail) in list(device.conditions.items()):
        out.append(
            Finding(
                key=device_key(device, kind.value),
                category=Category.TECHNICAL,
                priority=settings.technical.get(kind, Priority.MEDIUM),
                message=f"{name}: {TECHNICAL_TEXT.get(kind, kind.value)}",
                delay_s=settings.technical_delay_s.get(kind, 0.0),
                reason=detail,
            )
        )
    status = device.status
    failed = status is not None and status.state is LinkState.FAILED
    limit = PUMP_SILENCE_S if (status is not None and status.kind == "pump") else SENSOR_SILENCE_S
    started = status is not None and status.state is not LinkState.STARTING
    silent = device.last_data is None or now - device.last_data > limit
    if started and silent and not failed and TechnicalKind.SOURCE_FAILED not in device.conditions:
        out.append(
            Finding(
                key=device_key(device, "silent"),
                category=Category.TECHNICAL,
                priority=Priority.MEDIUM,
                message=f"{name}: no data",
                reason=f"nothing received for more than {limit:.0f} s",
            )
        )
    return out


class FleetRules:
    """Per bed: the findings of its further devices and the predictive low glucose."""

    def __init__(
        self, hub: StreamHub, devices: BedDevices, settings_for: Callable[[str], AlarmSettings]
    ) -> None:
        self._hub = hub
        self._devices = devices
        self._settings_for = settings_for
        # per bed: the glucose history's count when its trend was fitted, and the trend (a new fit only
        # when a reading came, not ten times a second)
        self._trends: dict[str, tuple[SampleRing, int, GlucoseTrend | None]] = {}

    def __call__(self, bed: str, now: float) -> list[Finding]:
        settings = self._settings_for(bed)
        out: list[Finding] = []
        for device in self._devices.on_bed(bed):
            out += device_findings(device, now, settings)
        streams = self._hub.streams(bed)
        ring = streams.numeric_history.get(MdcCode.CONC_GLU_ISF) if streams is not None else None
        if ring is None:
            return out
        cached = self._trends.get(bed)
        if cached is None or cached[0] is not ring or cached[1] != ring.count:  # a new reading, or new ring
            cached = (ring, ring.count, bed_glucose(streams))
            self._trends[bed] = cached
        predicted = predicted_low_finding(streams, settings, now, cached[2])
        if predicted is not None:
            out.append(predicted)
        return out
