"""JSON-patch (``application/openstack-images-v2.1-json-patch``) applied to an image's
editable attributes, with Glance's rules for each operation."""

from __future__ import annotations

import copy
from typing import Any

from stratus.exceptions import Conflict, Forbidden, Invalid
from stratus.image.attributes import PROPERTIES, check_settable

MEDIA_TYPE = "application/openstack-images-v2.1-json-patch"
#: the older form, where each operation names itself: ``{"replace": "/name", "value": "x"}``
MEDIA_TYPE_V2_0 = "application/openstack-images-v2.0-json-patch"
OPERATIONS = ("add", "remove", "replace")
SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["op", "path"],
        "properties": {"op": {"enum": ["add", "replace", "remove"]}, "path": {"type": "string"}, "value": {}},
    },
}


def from_v2_0(operations: Any) -> Any:
    """The v2.0 patch form turned into the v2.1 one (``op`` and ``path``).

    :raises Invalid: an operation does not name exactly one of add, remove, replace."""
    if not isinstance(operations, list):
        return operations  # the schema check says what is wrong
    converted = []
    for operation in operations:
        named = [key for key in OPERATIONS if isinstance(operation, dict) and key in operation]
        if len(named) != 1:
            raise Invalid('Operation objects must contain exactly one member named "add", "remove", or "replace".')
        converted.append({"op": named[0], "path": operation[named[0]],
                          **({"value": operation["value"]} if "value" in operation else {})})
    return converted


def _attribute(path: str) -> tuple[str, str | None]:
    """``("tags", None)`` for ``/tags``; a second level only as ``/tags/-`` style appends."""
    if not path.startswith("/"):
        raise Invalid(f"Invalid JSON pointer for this resource: '{path}'")
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
    if not parts[0] or len(parts) > 2 or (len(parts) == 2 and (parts[0] != "tags" or parts[1] != "-")):
        raise Invalid(f"Invalid JSON pointer for this resource: '{path}'")
    return parts[0], parts[1] if len(parts) == 2 else None


def apply(state: dict[str, Any], operations: list[dict[str, Any]], is_admin: bool) -> dict[str, Any]:
    """Return a patched copy of ``state``; ``state`` itself is untouched.

    ``add`` sets a core attribute or creates-or-replaces a property; ``replace`` needs the
    property to exist (409 otherwise); ``remove`` deletes a property (409 if absent) and
    refuses core attributes (403). ``/tags/-`` appends one tag.

    :raises Invalid: malformed path or missing value.
    :raises Forbidden: read-only or reserved attribute, or a core attribute removed.
    :raises Conflict: replace/remove of a property the image does not have.
    """
    result = copy.deepcopy(state)
    for operation in operations:
        op, path = operation["op"], operation["path"]
        name, index = _attribute(path)
        check_settable([name], is_admin)
        if op in ("add", "replace") and "value" not in operation:
            raise Invalid(f"Operation '{op}' on {path} needs a value")
        value = operation.get("value")
        if index == "-":
            if op != "add":
                raise Invalid(f"Invalid JSON pointer for this resource: '{path}'")
            result["tags"] = [*result.get("tags", []), value]
            continue
        if op == "remove":
            if name in PROPERTIES:
                raise Forbidden(f"Property {name} may not be removed.")
            if name not in result:
                raise Conflict(f"Property {name} does not exist.")
            del result[name]
        elif op == "replace" and name not in PROPERTIES and name not in result:
            raise Conflict(f"Property {name} does not exist.")
        else:
            result[name] = value
    return result
