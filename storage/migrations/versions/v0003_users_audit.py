"""users, roles, sessions and the hash-chained audit trail (users issue)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 07:30:00
"""

from __future__ import annotations

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # reserved: filled by its issue's change


def downgrade() -> None:
    pass
