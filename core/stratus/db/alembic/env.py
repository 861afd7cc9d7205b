"""Alembic environment shared by every service; the runner passes service and connection."""

from __future__ import annotations

import importlib

from alembic import context

from stratus.db.migration import SERVICES

config = context.config
service = config.attributes["service"]
models = importlib.import_module(f"{SERVICES[service]}.models")

context.configure(
    connection=config.attributes["connection"],
    target_metadata=models.Base.metadata,
    version_table=config.attributes["version_table"],
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
