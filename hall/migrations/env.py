"""Alembic environment: always called programmatically with a live connection."""

from __future__ import annotations

from alembic import context

import hall.models  # noqa: F401  (registers every table)
from hall.models.base import Base

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
