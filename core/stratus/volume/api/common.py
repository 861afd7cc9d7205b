"""What the block-storage responders share: the project in the path, paging, views."""

from __future__ import annotations

import urllib.parse
from typing import Any

import falcon

from stratus.api.versions import service_root
from stratus.exceptions import Forbidden, Invalid

#: the first segment after ``/v3`` of every collection: anything else there is a project id
COLLECTIONS = frozenset({"volumes", "snapshots", "types", "os-quota-sets", "limits", "os-availability-zone",
                         "os-services", "scheduler-stats", "attachments", "backups", "os-volume-transfer",
                         "volume-transfers", "extensions", "openapi.json", "messages", "qos-specs", "groups",
                         "group_types", "workers", "clusters", "manageable_volumes", "manageable_snapshots",
                         "os-hosts", "capabilities", "default-types", "resource_filters"})


class ProjectInPath:
    """Falcon middleware: ``/v3/<project_id>/...`` (the catalog's form) and ``/v3/...``
    (optional from 3.67, accepted at every version as Cinder does) reach the same routes.
    A project in the path that is not the token's is refused unless the caller administers."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        parts = req.path.split("/", 3)
        req.context.path_project = None
        if len(parts) >= 3 and parts[1] == "v3" and parts[2] and parts[2] not in COLLECTIONS:
            req.context.path_project = parts[2]
            req.path = "/v3" + ("/" + parts[3] if len(parts) > 3 else "")

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict) -> None:
        project = req.context.get("path_project")
        ctx = req.context.get("stratus")
        if project and ctx is not None and ctx.is_authenticated and project != ctx.project_id and not ctx.is_admin:
            raise Forbidden(f"Project {project} in the URL is not the project of the token "
                            f"({ctx.project_id}); use your own project's URL.")


def context(req: falcon.Request) -> Any:
    return req.context.stratus


def base(req: falcon.Request, conf: Any) -> str:
    """The versioned URL items link under (with the path's project when it had one)."""
    project = req.context.get("path_project")
    root = service_root(req, conf)
    return f"{root}/v3/{project}" if project else f"{root}/v3"


def links(req: falcon.Request, conf: Any, collection: str, item_id: str) -> list[dict[str, str]]:
    href = f"{base(req, conf)}/{collection}/{item_id}"
    return [{"rel": "self", "href": href}, {"rel": "bookmark", "href": href.replace("/v3/", "/", 1)}]


def next_link(req: falcon.Request, conf: Any, collection: str, marker: str) -> list[dict[str, str]]:
    query = {k: v for k, v in req.params.items() if k != "marker"}
    query["marker"] = marker
    return [{"rel": "next", "href": f"{base(req, conf)}/{collection}?{urllib.parse.urlencode(query, doseq=True)}"}]


def int_param(req: falcon.Request, name: str, minimum: int = 0) -> int | None:
    value = req.get_param(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise Invalid(f"Invalid input received: {name} must be an integer, not {value!r}") from None
    if number < minimum:
        raise Invalid(f"Invalid input received: {name} must be >= {minimum}")
    return number


def boolean(name: str, value: Any) -> bool:
    """Cinder's lenient booleans (true/false, yes/no, 1/0, on/off)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on", "y", "t"):
        return True
    if text in ("false", "no", "0", "off", "n", "f"):
        return False
    raise Invalid(f"Invalid input received: {name} must be a boolean, not {value!r}")


def isotime(moment: Any) -> str | None:
    return moment.isoformat(timespec="microseconds") if moment is not None else None


def metadata_schema(max_items: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "propertyNames": {"minLength": 1, "maxLength": 255},
                              "additionalProperties": {"type": "string", "maxLength": 255}}
    if max_items is not None:
        schema["maxProperties"] = max_items
    return schema


def sorting(req: falcon.Request, sortable: dict[str, Any]) -> list[tuple[str, bool]]:
    """``sort=key[:dir],...`` or ``sort_key``/``sort_dir`` as (key, ascending) pairs; newest first
    when none. :raises Invalid: a key not in ``sortable`` or a direction not asc/desc."""
    wanted: list[tuple[str, str]] = []
    if req.get_param("sort"):
        for part in req.get_param("sort").split(","):
            key, _, direction = part.strip().partition(":")
            wanted.append((key.strip(), direction.strip() or "desc"))
    elif req.get_param("sort_key"):
        wanted.append((req.get_param("sort_key"), req.get_param("sort_dir") or "desc"))
    result = []
    for key, direction in wanted:
        key = "name" if key == "display_name" and "display_name" not in sortable else key
        if key not in sortable:
            raise Invalid(f"Invalid input received: Invalid sort key {key!r}")
        if direction.lower() not in ("asc", "desc"):
            raise Invalid(f"Invalid input received: Invalid sort direction {direction!r}")
        result.append((key, direction.lower() == "asc"))
    return result or [("created_at", False)]
