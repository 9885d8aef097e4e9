"""Tables of the device fleet: the asset list (one row per device) and each device's history (a row a
minute: battery, link quality and its cumulative counters), for the maintenance predictions.

No patient data: devices, beds and stations only. They live in the encrypted record all the same.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table
from wardwatch.storage.schema import metadata

fleet_devices = Table(
    "fleet_devices",
    metadata,
    Column("id", String(160), primary_key=True),
    Column("type", String(32), nullable=False),
    Column("maker", String(64), nullable=False, default=""),
    Column("model", String(64), nullable=False, default=""),
    Column("serial", String(64), nullable=False, default=""),
    Column("firmware", String(32), nullable=False, default=""),
    Column("address", String(256), nullable=False, default=""),
    Column("bed", String(32), nullable=False),
    Column("station", String(128), nullable=False),
    Column("first_seen", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("battery", Float),
    Column("link_quality", Float),
    Column("hours_in_use", Float, nullable=False, default=0.0),
    Column("decode_errors", Integer, nullable=False, default=0),
    Column("disconnects", Integer, nullable=False, default=0),
    Column("sensor_off", Integer, nullable=False, default=0),
    Column("state", String(16), nullable=False),
    Column("last_service", Float),
)

fleet_history = Table(
    "fleet_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("device_id", String(160), nullable=False),
    Column("time", Float, nullable=False),
    Column("battery", Float),
    Column("link_quality", Float),
    Column("decode_errors", Integer, nullable=False),
    Column("disconnects", Integer, nullable=False),
    Column("sensor_off", Integer, nullable=False),
    Column("connected", Boolean, nullable=False),
    Index("ix_fleet_history_device_time", "device_id", "time"),
)
