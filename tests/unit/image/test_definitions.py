"""The metadata definitions Stratus ships: each a namespace the API itself would take, for a
known resource type, and loading them is idempotent."""

from __future__ import annotations

import jsonschema
import pytest

from stratus.image import definitions
from stratus.image.api import metadef_schemas


@pytest.mark.parametrize("body", definitions.definitions(), ids=lambda body: body["namespace"])
def test_each_shipped_namespace_is_a_valid_create_request(body):
    jsonschema.validate(body, metadef_schemas.NAMESPACE_BODY)
    for name, prop in body.get("properties", {}).items():
        jsonschema.validate({**prop, "name": name}, metadef_schemas.PROPERTY_BODY)
    assert {a["name"] for a in body["resource_type_associations"]} <= set(definitions.RESOURCE_TYPES)
    assert body["visibility"] == "public" and body["protected"] is True


def test_there_are_definitions():
    assert len(definitions.definitions()) >= 3
