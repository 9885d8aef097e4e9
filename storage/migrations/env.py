"""Alembic environment: migrations always run on a connection WardWatch opened (encrypted, locked)."""

from __future__ import annotations

from alembic import context
from wardwatch.storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - `alembic` on the command line is not how WardWatch migrates
    raise RuntimeError("run migrations with `wardwatch db upgrade`, which opens the encrypted database")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
