"""Which image attributes a user may set, and what makes a valid set of them (Glance's rules)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stratus.api.validation import validate
from stratus.exceptions import Forbidden, PayloadTooLarge

DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
VISIBILITIES = ["public", "private", "shared", "community"]
#: core attributes a user may change (``owner`` only administrators)
EDITABLE = ("name", "visibility", "protected", "os_hidden", "disk_format", "container_format", "min_disk",
            "min_ram", "tags", "owner")
READ_ONLY = frozenset({"id", "status", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
                       "created_at", "updated_at", "self", "file", "schema", "direct_url", "stores", "locations"})
RESERVED = frozenset({"location", "deleted", "deleted_at"})
RESERVED_PREFIX = "os_glance_"

PROPERTIES: dict[str, Any] = {
    "name": {"type": ["string", "null"], "maxLength": 255},
    "visibility": {"enum": VISIBILITIES},
    "protected": {"type": "boolean"},
    "os_hidden": {"type": "boolean"},
    "disk_format": {"enum": [*DISK_FORMATS, None]},
    "container_format": {"enum": [*CONTAINER_FORMATS, None]},
    "min_disk": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    "min_ram": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    "tags": {"type": "array", "uniqueItems": False,
             "items": {"type": "string", "minLength": 1, "maxLength": 255}},
    "owner": {"type": ["string", "null"], "maxLength": 255},
}
#: the editable attributes of an image: core ones plus free-form string properties
STATE = {"type": "object", "properties": PROPERTIES,
         "additionalProperties": {"type": "string", "maxLength": 65535},
         "propertyNames": {"minLength": 1, "maxLength": 255}}


def check_settable(names: Iterable[str], is_admin: bool) -> None:
    """:raises Forbidden: a name is read-only, reserved, or ``owner`` for a non-administrator."""
    for name in names:
        if name in READ_ONLY:
            raise Forbidden(f"Attribute '{name}' is read-only.")
        if name in RESERVED or name.startswith(RESERVED_PREFIX):
            raise Forbidden(f"Attribute '{name}' is reserved.")
        if name == "owner" and not is_admin:
            raise Forbidden("Only administrators may set an image's owner.")


def check_state(state: dict[str, Any], conf: Any) -> None:
    """Validate a full set of editable attributes.

    :raises Invalid: a value is wrong (the message names the attribute).
    :raises PayloadTooLarge: more tags or extra properties than the quotas allow.
    """
    validate(STATE, state)
    tag_quota, property_quota = conf.image.image_tag_quota, conf.image.image_property_quota
    if tag_quota >= 0 and len(set(state.get("tags", []))) > tag_quota:
        raise PayloadTooLarge(f"Maximum number of tags exceeded: an image may have {tag_quota}")
    extra = [k for k in state if k not in PROPERTIES]
    if property_quota >= 0 and len(extra) > property_quota:
        raise PayloadTooLarge(f"Maximum number of properties exceeded: an image may have {property_quota}")
