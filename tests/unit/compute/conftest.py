"""Fixtures of the compute unit tests."""

from __future__ import annotations

import pytest

from stratus.db import migration
from stratus.db.engine import Database


@pytest.fixture
def compute_db(conf, db_url):
    """The compute service's database, migrated, on each kind ``db_url`` gives."""
    conf.set_override("connection", db_url, group="database")
    migration.sync(conf, ["compute"])
    db = Database.for_service(conf, "compute")
    yield db
    db.dispose()
