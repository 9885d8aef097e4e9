"""shift review: nurses' notes and review indexes (handover issue)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:30:00
"""

from __future__ import annotations

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # reserved: filled by its issue's change


def downgrade() -> None:
    pass
