"""the device fleet: asset list and device history (device-fleet issue)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 07:30:00
"""

from __future__ import annotations

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # reserved: filled by its issue's change


def downgrade() -> None:
    pass
