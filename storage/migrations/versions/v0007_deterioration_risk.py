"""hourly deterioration risk per bed (predictive-deterioration issue)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:30:00
"""

from __future__ import annotations

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # reserved: filled by its issue's change


def downgrade() -> None:
    pass
