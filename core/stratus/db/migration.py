"""Alembic migrations, one history per service.

Every service that owns tables is listed in :data:`SERVICES` with the module holding its
declarative base and its ``migrations/versions`` directory. Each keeps its own version
table (``alembic_version_<service>``), so services can share a database or each have
their own. ``stratus manage db sync`` calls :func:`sync`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from stratus import registry
from stratus.db.engine import Database

#: service name -> package whose ``models`` module has ``Base`` and which has ``migrations/versions``
SERVICES: dict[str, str] = registry.table_packages()


def version_table(service: str) -> str:
    return f"alembic_version_{service.replace('-', '_')}"


def _alembic_config(service: str, connection: sa.Connection | None = None) -> Config:
    package = importlib.import_module(SERVICES[service])
    versions = os.path.join(os.path.dirname(package.__file__), "migrations", "versions")
    config = Config()
    config.set_main_option("script_location", "stratus.db:alembic")
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", versions)
    config.attributes.update(service=service, connection=connection, version_table=version_table(service))
    return config


def _selected(services: Iterable[str] | None) -> list[str]:
    chosen = list(services) if services else list(SERVICES)
    unknown = sorted(set(chosen) - set(SERVICES))
    if unknown:
        raise ValueError(f"unknown service(s) {', '.join(unknown)}; known: {', '.join(sorted(SERVICES))}")
    return chosen


def sync(conf: Any, services: Iterable[str] | None = None, revision: str = "heads") -> dict[str, str | None]:
    """Upgrade each service's tables to ``revision``; return each service's new revision."""
    result = {}
    for service in _selected(services):
        db = Database.for_service(conf, service)
        try:
            with db.connection() as connection:
                command.upgrade(_alembic_config(service, connection), revision)
            result[service] = current(db, service)
        finally:
            db.dispose()
    return result


def current(db: Database, service: str) -> str | None:
    with db.connection() as connection:
        ctx = MigrationContext.configure(connection, opts={"version_table": version_table(service)})
        return ctx.get_current_revision()


def head(service: str) -> str | None:
    return ScriptDirectory.from_config(_alembic_config(service)).get_current_head()


def status(conf: Any, services: Iterable[str] | None = None) -> dict[str, tuple[str | None, str | None]]:
    """Return ``{service: (current revision, head revision)}``."""
    result = {}
    for service in _selected(services):
        db = Database.for_service(conf, service)
        try:
            result[service] = (current(db, service), head(service))
        finally:
            db.dispose()
    return result
