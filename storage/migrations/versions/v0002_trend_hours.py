"""trend hours: completed hours of trends folded into one row per bed, channel and hour

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 03:30:00
"""

from __future__ import annotations

import zlib

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trend_hours",
        sa.Column("bed_id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("samples", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("bed_id", "code", "hour"),
    )


def downgrade() -> None:
    # the folded hours go back to minute rows first, so that nothing recorded is lost
    conn = op.get_bind()
    rows = conn.exec_driver_sql("SELECT bed_id, code, hour, samples FROM trend_hours").fetchall()
    for bed_id, code, hour, samples in rows:
        values = np.frombuffer(zlib.decompress(samples), np.float32)  # as storage.codec.encode_hour
        for m in range(60):
            chunk = values[m * 60 : (m + 1) * 60].tobytes()
            conn.exec_driver_sql(
                "INSERT OR REPLACE INTO trends (bed_id, code, minute, samples) VALUES (?, ?, ?, ?)",
                (bed_id, code, hour * 60 + m, chunk),
            )
    op.drop_table("trend_hours")
