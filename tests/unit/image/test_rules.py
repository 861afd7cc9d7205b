"""The image service's pure rules: JSON-patch, sort parameters, status transitions, and the
migration that moved tags/properties/locations into tables (on every database)."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa

from stratus.db import migration
from stratus.db.engine import Database, create_engine
from stratus.exceptions import Conflict, Forbidden, Invalid
from stratus.image import listing, models, patching, states

STATE = {"name": "a", "visibility": "shared", "tags": ["x"], "min_ram": 0, "colour": "red"}


def test_patch_operations_follow_glance():
    after = patching.apply(STATE, [{"op": "add", "path": "/name", "value": "b"},
                                   {"op": "add", "path": "/colour", "value": "blue"},
                                   {"op": "add", "path": "/a~1b", "value": "slash"},
                                   {"op": "add", "path": "/tags/-", "value": "y"},
                                   {"op": "remove", "path": "/colour"}], is_admin=False)
    expected = {**STATE, "name": "b", "a/b": "slash", "tags": ["x", "y"]}
    del expected["colour"]
    assert after == expected
    assert STATE["colour"] == "red" and STATE["tags"] == ["x"]  # the input is untouched


@pytest.mark.parametrize(("operation", "error"), [
    ({"op": "replace", "path": "/size", "value": 1}, Forbidden),
    ({"op": "add", "path": "/os_glance_import_task", "value": "x"}, Forbidden),
    ({"op": "add", "path": "/owner", "value": "p"}, Forbidden),
    ({"op": "remove", "path": "/name"}, Forbidden),
    ({"op": "replace", "path": "/flavour", "value": "x"}, Conflict),
    ({"op": "remove", "path": "/flavour"}, Conflict),
    ({"op": "replace", "path": "/a/b", "value": "x"}, Invalid),
    ({"op": "replace", "path": "name", "value": "x"}, Invalid),
    ({"op": "replace", "path": "/tags/-", "value": "x"}, Invalid),
    ({"op": "add", "path": "/name"}, Invalid),
])
def test_patch_refusals(operation, error):
    with pytest.raises(error):
        patching.apply(STATE, [operation], is_admin=False)


def test_administrators_may_change_the_owner():
    assert patching.apply(STATE, [{"op": "replace", "path": "/owner", "value": "p"}], is_admin=True)["owner"] == "p"


@pytest.mark.parametrize(("params", "order"), [
    ({}, [("created_at", False)]),
    ({"sort": "name:asc,size"}, [("name", True), ("size", False)]),
    ({"sort_key": ["name", "size"], "sort_dir": "asc"}, [("name", True), ("size", True)]),
    ({"sort_key": ["name", "size"], "sort_dir": ["asc", "desc"]}, [("name", True), ("size", False)]),
])
def test_sort_parameters(params, order):
    assert listing.sort_order(params) == order


@pytest.mark.parametrize("params", [{"sort": "name", "sort_key": "id"}, {"sort_key": "colour"},
                                    {"sort": "name:up"}, {"sort_key": ["a", "b", "c"], "sort_dir": ["asc", "desc"]}])
def test_bad_sort_parameters(params):
    with pytest.raises(Invalid):
        listing.sort_order(params)


def test_transitions_outside_glances_machine_are_programming_errors():
    with pytest.raises(ValueError, match="killed"):
        states.move(None, "id", "killed", "active")  # type: ignore[arg-type]


def test_migration_moves_json_columns_into_tables(conf, db_url):
    conf.set_override("connection", db_url, group="database")
    migration.sync(conf, ["image"], revision="im0001")
    engine = create_engine(db_url)
    images = sa.table("images", *(sa.column(c) for c in (
        "id", "name", "status", "visibility", "protected", "os_hidden", "min_disk", "min_ram", "properties", "tags",
        "store", "location", "created_at", "updated_at")))
    now = datetime.datetime(2026, 1, 1)
    with engine.begin() as connection:
        connection.execute(images.insert(), [{
            "id": "11111111-1111-1111-1111-111111111111", "name": "old", "status": "active", "visibility": "shared",
            "protected": False, "os_hidden": False, "min_disk": 0, "min_ram": 0, "properties": '{"os_distro": "x"}',
            "tags": '["a", "b"]', "store": "local", "location": "file:///d/1", "created_at": now, "updated_at": now}])
    engine.dispose()
    migration.sync(conf, ["image"])
    db = Database.for_service(conf, "image")
    with db.transaction() as session:
        row = session.get(models.Image, "11111111-1111-1111-1111-111111111111")
        assert [t.value for t in row.tags] == ["a", "b"]
        assert {p.name: p.value for p in row.extra} == {"os_distro": "x"}
        assert [(loc.store, loc.url) for loc in row.locations] == [("local", "file:///d/1")]
    db.dispose()
