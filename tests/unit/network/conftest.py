"""The networking service's database on each of SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime

import pytest

from tests.conftest import service_database

NOW = datetime.datetime(2026, 1, 1)


@pytest.fixture
def network_db(conf, db_url):
    yield from service_database(conf, db_url, "network")
