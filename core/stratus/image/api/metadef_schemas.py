"""The JSON schemas of metadata definitions: what requests are checked against, and the
documents ``/v2/schemas/metadefs/*`` publishes (named as Glance names them)."""

from __future__ import annotations

from typing import Any

_NAME = {"type": "string", "minLength": 1, "maxLength": 80}
_STAMP = {"type": "string", "readOnly": True, "format": "date-time"}
_STRING_ARRAY = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
#: a property: a JSON schema fragment (its own type, bounds, enum...)
PROPERTY_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 255},
    "title": {"type": "string"}, "description": {"type": "string"},
    "operators": _STRING_ARRAY,
    "type": {"type": "string", "enum": ["array", "boolean", "integer", "number", "object", "string", None]},
    "required": _STRING_ARRAY, "minimum": {"type": "number"}, "maximum": {"type": "number"},
    "maxLength": {"type": "integer", "minimum": 0}, "minLength": {"type": "integer", "minimum": 0},
    "pattern": {"type": "string", "format": "regex"}, "enum": {"type": "array"}, "readonly": {"type": "boolean"},
    "default": {}, "items": {"type": "object", "properties": {
        "type": {"type": "string", "enum": ["array", "boolean", "integer", "number", "object", "string", None]},
        "enum": {"type": "array"}}},
    "maxItems": {"type": "integer", "minimum": 0}, "minItems": {"type": "integer", "minimum": 0},
    "uniqueItems": {"type": "boolean"}, "additionalItems": {"type": "boolean"},
}
PROPERTY_BODY = {"name": "property", "type": "object", "required": ["name", "title", "type"],
                 "additionalProperties": False, "properties": PROPERTY_FIELDS}
_PROPERTIES_MAP = {"type": "object", "additionalProperties": {
    "type": "object", "required": ["title", "type"], "properties": PROPERTY_FIELDS}}
OBJECT_BODY = {"name": "object", "type": "object", "required": ["name"], "additionalProperties": False,
               "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 80},
                              "description": {"type": "string"}, "required": _STRING_ARRAY,
                              "properties": _PROPERTIES_MAP, "created_at": _STAMP, "updated_at": _STAMP,
                              "schema": {"type": "string", "readOnly": True},
                              "self": {"type": "string", "readOnly": True}}}
TAG_BODY = {"name": "tag", "type": "object", "required": ["name"], "additionalProperties": False,
            "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255},
                           "created_at": _STAMP, "updated_at": _STAMP}}
TAGS_BODY = {"name": "tags", "type": "object", "required": ["tags"],
             "properties": {"tags": {"type": "array", "items": TAG_BODY}}}
ASSOCIATION_BODY = {"name": "resource_type_association", "type": "object", "required": ["name"],
                    "additionalProperties": False,
                    "properties": {"name": _NAME, "prefix": {"type": "string", "maxLength": 80},
                                   "properties_target": {"type": "string", "maxLength": 80},
                                   "created_at": _STAMP, "updated_at": _STAMP}}
_NAMESPACE_FIELDS: dict[str, Any] = {
    "namespace": _NAME, "display_name": {"type": "string", "maxLength": 80}, "description": {"type": "string"},
    "visibility": {"type": "string", "enum": ["public", "private"]}, "protected": {"type": "boolean"},
    "owner": {"type": "string", "maxLength": 255}, "created_at": _STAMP, "updated_at": _STAMP,
    "schema": {"type": "string", "readOnly": True}, "self": {"type": "string", "readOnly": True},
}
NAMESPACE_BODY = {
    "name": "namespace", "type": "object", "required": ["namespace"], "additionalProperties": False,
    "properties": {**_NAMESPACE_FIELDS,
                   "resource_type_associations": {"type": "array", "items": ASSOCIATION_BODY},
                   "properties": _PROPERTIES_MAP,
                   "objects": {"type": "array", "items": OBJECT_BODY},
                   "tags": {"type": "array", "items": TAG_BODY}},
}
NAMESPACE_UPDATE = {"name": "namespace", "type": "object", "required": ["namespace"],
                    "properties": _NAMESPACE_FIELDS}


def _collection(name: str, key: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "properties": {key: {"type": "array", "items": item}, "first": {"type": "string"},
                                         "next": {"type": "string"}, "schema": {"type": "string"}},
            "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                      {"rel": "describedby", "href": "{schema}"}]}


DOCUMENTS: dict[str, dict[str, Any]] = {
    "metadefs/namespace": NAMESPACE_BODY,
    "metadefs/namespaces": _collection("namespaces", "namespaces", NAMESPACE_BODY),
    "metadefs/resource_type": ASSOCIATION_BODY,
    "metadefs/resource_types": _collection("resource_type_associations", "resource_type_associations",
                                           ASSOCIATION_BODY),
    "metadefs/object": OBJECT_BODY,
    "metadefs/objects": _collection("objects", "objects", OBJECT_BODY),
    "metadefs/property": PROPERTY_BODY,
    "metadefs/properties": {"name": "properties", "properties": {"properties": _PROPERTIES_MAP,
                                                                  "schema": {"type": "string"}}},
    "metadefs/tag": TAG_BODY,
    "metadefs/tags": _collection("tags", "tags", TAG_BODY),
}
