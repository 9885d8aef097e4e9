"""users, roles, sessions and the hash-chained audit trail (users issue)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from wardwatch.storage.security_audit import CONTENT, GENESIS, row_hash

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NEW_AUDIT_COLUMNS = (
    ("target", sa.String(length=128), ""),
    ("outcome", sa.String(length=16), "ok"),
    ("before", sa.Text(), ""),
    ("after", sa.Text(), ""),
    ("prev_hash", sa.String(length=64), ""),
    ("hash", sa.String(length=64), ""),
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("pin_hash", sa.Text(), nullable=True),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_enabled", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_login", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "security_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    for name, kind, default in NEW_AUDIT_COLUMNS:
        op.add_column("audit", sa.Column(name, kind, nullable=False, server_default=default))
    # the ward changes recorded before this revision join the chain, in the order they were written
    conn = op.get_bind()
    rows = conn.exec_driver_sql(
        'SELECT id, time, "user", action, target, outcome, before, after, detail FROM audit ORDER BY id'
    ).fetchall()
    prev = GENESIS
    for r in rows:
        h = row_hash(prev, r[0], dict(zip(CONTENT, r[1:], strict=True)))
        conn.exec_driver_sql("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (prev, h, r[0]))
        prev = h
    if rows:
        conn.exec_driver_sql(
            "INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, ?, ?)", (rows[-1][0], prev)
        )


def downgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        for name, _kind, _default in reversed(NEW_AUDIT_COLUMNS):
            batch.drop_column(name)
    op.drop_table("security_settings")
    op.drop_table("audit_head")
    op.drop_table("users")
