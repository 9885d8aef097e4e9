"""the device fleet: asset list and device history (device-fleet issue)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fleet_devices",
        sa.Column("id", sa.String(length=160), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("maker", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("firmware", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("bed", sa.String(length=32), nullable=False),
        sa.Column("station", sa.String(length=128), nullable=False),
        sa.Column("first_seen", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.Column("battery", sa.Float(), nullable=True),
        sa.Column("link_quality", sa.Float(), nullable=True),
        sa.Column("hours_in_use", sa.Float(), nullable=False),
        sa.Column("decode_errors", sa.Integer(), nullable=False),
        sa.Column("disconnects", sa.Integer(), nullable=False),
        sa.Column("sensor_off", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_service", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "fleet_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=160), nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("battery", sa.Float(), nullable=True),
        sa.Column("link_quality", sa.Float(), nullable=True),
        sa.Column("decode_errors", sa.Integer(), nullable=False),
        sa.Column("disconnects", sa.Integer(), nullable=False),
        sa.Column("sensor_off", sa.Integer(), nullable=False),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_fleet_history_device_time", "fleet_history", ["device_id", "time"])


def downgrade() -> None:
    op.drop_index("ix_fleet_history_device_time", table_name="fleet_history")
    op.drop_table("fleet_history")
    op.drop_table("fleet_devices")
