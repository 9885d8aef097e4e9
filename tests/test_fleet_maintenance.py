"""Predictive maintenance: time to empty on recorded discharge histories, error rates that rise,
maintenance due dates, devices not seen, and the simulated-fleet bench."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from wardwatch.app.fleet.assets import Asset
from wardwatch.app.fleet.bench import link_leads, simulate_battery
from wardwatch.app.fleet.history import DeviceHistory, HistoryRow
from wardwatch.app.fleet.maintenance import Urgency, battery_forecast, maintenance_flags
from wardwatch.storage import fleet_store
from wardwatch.storage.database import open_record
from wardwatch.storage.keys import DatabaseKey, write_key_file

T0 = 1_800_000_000.0
DAYS = {"infusion-pump": 365.0, "cgm": 14.0, "ecg-patch": 180.0}


def asset(device_id: str, device_type: str = "ecg-patch", **changes: object) -> Asset:
    base = Asset(
        device_id, device_type, "", "", "", "", "", "bed01", "ward", T0 - 86400.0, T0, 80.0, 100.0,
        10.0, 0, 0, 0, "connected",
    )  # fmt: skip
    return Asset(**{**base.to_json(), **changes})


@pytest.fixture
def record(tmp_path: Path):
    key = tmp_path / "k.key"
    write_key_file(key, DatabaseKey.new())
    rec = open_record(tmp_path / "data", key_file=key)
    yield rec
    rec.close()


def test_time_to_empty_is_within_10_percent_on_recorded_discharge_histories_with_noise(record):
    rng = np.random.default_rng(7)
    for n in range(12):
        battery = simulate_battery(rng, load_sd=0.0)  # reading noise (σ 0.7 %) and whole percent
        device = f"patch{n}"
        half = int(np.argmax(battery.true_levels <= battery.true_levels[0] / 2))
        rows = [
            HistoryRow(device, T0 + t, float(level), 100.0, 0, 0, 0, True)
            for t, level in zip(battery.times[: half + 1], battery.readings[: half + 1], strict=True)
        ]
        fleet_store.save(record.engine, [asset(device)], rows)
        history = DeviceHistory()
        for row in fleet_store.load_history(record.engine, T0, [device]):
            history.add(row)
        h = history.columns()
        now = T0 + float(battery.times[half])
        forecast = battery_forecast(h["time"], h["battery"], now)
        assert forecast is not None
        true_left = battery.empty_at - float(battery.times[half])
        assert abs(forecast.time_to_empty_s - true_left) <= 0.10 * true_left


def test_a_charge_starts_a_new_discharge_and_a_battery_on_mains_has_no_forecast():
    t = np.arange(0.0, 4 * 3600.0, 60.0)
    level = np.where(t < 7200.0, 90.0 - 10.0 * t / 3600.0, 100.0 - 5.0 * (t - 7200.0) / 3600.0)
    forecast = battery_forecast(t, np.round(level), float(t[-1]))
    assert forecast is not None and abs(forecast.rate_percent_per_h - 5.0) < 0.3
    assert battery_forecast(t, np.full_like(t, 100.0), float(t[-1])) is None


def test_a_battery_that_would_run_out_within_the_shift_is_flagged_with_its_evidence():
    t = T0 + np.arange(0.0, 3 * 3600.0, 60.0)
    histories = {
        "low": {"time": t, "battery": np.round(60.0 - 10.0 * (t - T0) / 3600.0)},  # 30 % left, 10 %/h
        "fine": {"time": t, "battery": np.round(90.0 - 1.0 * (t - T0) / 3600.0)},
    }
    for h in histories.values():
        for column in ("decode_errors", "disconnects", "sensor_off"):
            h[column] = np.zeros_like(t)
    now = float(t[-1])
    assets = [asset("low", last_seen=now), asset("fine", last_seen=now)]
    flags = maintenance_flags(assets, histories, now, 12.0, DAYS, 3600.0)
    (flag,) = [f for f in flags if f.kind == "battery"]
    assert flag.device_id == "low" and flag.urgency is Urgency.SHIFT
    assert flag.title.startswith("Battery empty in 3.0 h") or flag.title.startswith("Battery empty in 3.1 h")
    assert "10.0 %/h" in flag.evidence and "the shift is 12 h" in flag.evidence


def _error_history(rng: np.random.Generator, rising: bool) -> dict[str, np.ndarray]:
    t = T0 + np.arange(0.0, 3 * 86400.0, 300.0)
    rate_h = np.full_like(t, 0.5)
    if rising:
        rate_h = np.where(t > T0 + 2.5 * 86400.0, 12.0, 0.5)  # the last 12 h: 24 times the usual
    errors = np.cumsum(rng.poisson(rate_h * 300.0 / 3600.0)).astype(float)
    zeros = np.zeros_like(t)
    return {"time": t, "battery": np.full_like(t, np.nan), "decode_errors": errors, "disconnects": zeros,
            "sensor_off": zeros}  # fmt: skip


def test_a_device_whose_error_rate_rises_is_flagged_and_its_steady_peers_are_not():
    rng = np.random.default_rng(3)
    histories = {f"p{i}": _error_history(rng, rising=(i == 0)) for i in range(6)}
    now = float(histories["p0"]["time"][-1])
    assets = [asset(k, last_seen=now) for k in histories]
    flags = maintenance_flags(assets, histories, now, 12.0, DAYS, 3600.0)
    (flag,) = [f for f in flags if f.kind == "errors"]
    assert flag.device_id == "p0"
    assert flag.title == "Decode (CRC) errors rising (vs own history and fleet)"
    assert "in the last 6 h" in flag.evidence and "fleet's (ecg-patch)" in flag.evidence


def test_maintenance_due_and_devices_not_seen_are_flagged_most_urgent_first():
    now = T0
    assets = [
        asset("pump-old", "infusion-pump", first_seen=now - 400 * 86400.0),
        asset("pump-soon", "infusion-pump", first_seen=now - 360 * 86400.0),
        asset("pump-fine", "infusion-pump", first_seen=now - 900 * 86400.0, last_service=now - 10 * 86400.0),
        asset("cgm-gone", "cgm", first_seen=now - 2 * 86400.0, last_seen=now - 5 * 3600.0),
    ]
    flags = maintenance_flags(assets, {}, now, 12.0, DAYS, 3600.0)
    assert [(f.device_id, f.kind) for f in flags] == [
        ("pump-old", "maintenance"),  # overdue: this shift, due time longest past
        ("cgm-gone", "missing"),
        ("pump-soon", "maintenance"),
    ]
    assert flags[0].title == "Maintenance overdue (35 d ago)"
    assert flags[2].urgency is Urgency.SOON


def test_every_degrading_link_of_a_small_simulated_fleet_is_flagged_hours_before_it_fails():
    result = link_leads(devices=12, degrading=4, seed=5)
    assert all(lead is not None and lead > 6.0 for lead in result.leads_h)
    assert result.healthy_flagged == 0
