"""What token documents are made of is kept between requests, and dropped on any change."""

from __future__ import annotations

import time

import sqlalchemy as sa

from stratus.db import migration
from stratus.db.engine import Database
from stratus.identity import models
from stratus.identity.caching import Documents


def test_kept_until_the_ttl_or_a_clear(monkeypatch):
    documents, made = Documents(ttl=60, size=10), []

    def make():
        made.append(1)
        return len(made)

    assert documents.get("k", make) == documents.get("k", make) == 1
    documents.clear()
    assert documents.get("k", make) == 2
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + 61)
    assert documents.get("k", make) == 3


def test_a_value_read_across_a_change_is_not_kept():
    documents = Documents(ttl=60, size=10)

    def make_while_changing():
        documents.clear()  # another thread committed a change while this was read
        return "stale"

    assert documents.get("k", make_while_changing) == "stale"
    assert documents.get("k", lambda: "fresh") == "fresh"


def test_zero_ttl_reads_every_time():
    documents, made = Documents(ttl=0, size=10), []
    documents.get("k", lambda: made.append(1))
    documents.get("k", lambda: made.append(1))
    assert len(made) == 2


def test_only_committed_writes_are_reported(conf):
    migration.sync(conf, ["identity"])
    db = Database.for_service(conf, "identity")
    seen = []
    db.on_commit_of_writes(lambda: seen.append(1))
    try:
        with db.reading() as session:
            session.execute(sa.select(models.Domain)).all()
        with db.transaction() as session:
            session.execute(sa.select(models.Domain)).all()
        assert seen == []
        with db.transaction() as session:
            session.execute(sa.update(models.Domain).where(models.Domain.id == "none").values(name="x"))
        assert seen == [1]
        try:
            with db.transaction() as session:
                session.execute(sa.update(models.Domain).values(name="y"))
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        with db.transaction() as session:
            session.execute(sa.select(models.Domain)).all()
        assert seen == [1]
    finally:
        db.dispose()
