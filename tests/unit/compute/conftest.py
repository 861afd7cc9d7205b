"""Fixtures of the compute unit tests."""

from __future__ import annotations

import pytest

from tests.conftest import service_database


@pytest.fixture
def compute_db(conf, db_url):
    """The compute service's database, migrated, on each kind ``db_url`` gives."""
    yield from service_database(conf, db_url, "compute")
