"""the store-and-forward queue of HL7 v2 and FHIR messages (interoperability issue)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 07:30:00
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # reserved: filled by its issue's change


def downgrade() -> None:
    pass
