"""shift review: nurses' notes and review indexes (handover issue)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shift_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("bed_id", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("shift_notes", schema=None) as batch_op:
        batch_op.create_index("ix_shift_notes_bed_time", ["bed_id", "time"], unique=False)
    # ward-wide review reads every bed's events of a period by time
    with op.batch_alter_table("alarm_events", schema=None) as batch_op:
        batch_op.create_index("ix_alarm_events_time", ["time"], unique=False)
    with op.batch_alter_table("technical_events", schema=None) as batch_op:
        batch_op.create_index("ix_technical_events_time", ["time"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("technical_events", schema=None) as batch_op:
        batch_op.drop_index("ix_technical_events_time")
    with op.batch_alter_table("alarm_events", schema=None) as batch_op:
        batch_op.drop_index("ix_alarm_events_time")
    op.drop_table("shift_notes")
