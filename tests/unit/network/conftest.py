"""The networking service's database on each of SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime

import pytest

from stratus.db import migration
from stratus.db.engine import Database

NOW = datetime.datetime(2026, 1, 1)


@pytest.fixture
def network_db(conf, db_url):
    conf.set_override("connection", db_url, group="database")
    migration.sync(conf, ["network"])
    db = Database.for_service(conf, "network")
    yield db
    db.dispose()
