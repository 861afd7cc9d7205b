"""``/servers/{id}/tags`` (2.26).

Tags: up to 50 per server, 1-60 characters without ``/`` or ``,``; changed only while the
server is in a stable state (409 otherwise), as Nova.
"""

from __future__ import annotations

from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import models, states
from stratus.compute.api.microversions import at_least
from stratus.compute.api.servers import find
from stratus.compute.instances import utcnow
from stratus.exceptions import Conflict, Invalid, NotFound

LIMIT = 50
TAG = {"type": "string", "minLength": 1, "maxLength": 60, "pattern": "^[^,/]*$"}
REPLACE = {"type": "object", "required": ["tags"], "additionalProperties": False,
           "properties": {"tags": {"type": "array", "items": TAG}}}
WRITABLE = (states.ACTIVE, states.PAUSED, states.SUSPENDED, states.STOPPED, states.SHELVED, states.SHELVED_OFFLOADED)


def _since(req: falcon.Request, version: str) -> None:
    if not at_least(req, version):
        raise NotFound(f"The resource could not be found (it needs microversion {version} or later).")


def _check_tag(tag: str) -> None:
    if not 1 <= len(tag) <= 60 or "/" in tag or "," in tag:
        raise Invalid(f"Invalid tag {tag!r}: 1 to 60 characters, without '/' or ','")


class _Tags:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    def _server(self, req: falcon.Request, session: Any, server_id: str, write: bool) -> models.Instance:
        _since(req, "2.26")
        row = find(session, req, server_id)
        enforce(req, self.policy, f"os_compute_api:os-server-tags:{'update' if write else 'index'}",
                {"project_id": row.project_id})
        if write and row.vm_state not in WRITABLE:
            raise Conflict(f"Cannot update tags of instance {server_id} while it is in vm_state {row.vm_state}")
        return row


class ServerTags(_Tags):
    @schema("List a server's tags (2.26)", responses={200: {"type": "object", "required": ["tags"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        with self.compute.db.reading() as session:
            resp.media = {"tags": [t.tag for t in self._server(req, session, server_id, False).tags]}

    @schema("Replace a server's tags (2.26)", request=REPLACE, responses={200: {"type": "object"}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        wanted = list(dict.fromkeys(req.context.body["tags"]))
        if len(wanted) > LIMIT:
            raise Invalid(f"The number of tags exceeded the per-server limit {LIMIT}")
        with self.compute.db.transaction() as session:
            row = self._server(req, session, server_id, True)
            row.tags = [models.InstanceTag(tag=t) for t in wanted]
            row.updated_at = utcnow()
        resp.media = {"tags": wanted}

    @schema("Remove every tag of a server (2.26)", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        with self.compute.db.transaction() as session:
            row = self._server(req, session, server_id, True)
            row.tags, row.updated_at = [], utcnow()
        resp.status = 204


class ServerTag(_Tags):
    @schema("Whether a server has a tag: 204 or 404 (2.26)", responses={204: None})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str, tag: str) -> None:
        with self.compute.db.reading() as session:
            if tag not in {t.tag for t in self._server(req, session, server_id, False).tags}:
                raise NotFound(f"Tag {tag} could not be found for instance {server_id}.")
        resp.status = 204

    @schema("Add a tag to a server: 201, or 204 if it had it (2.26)", responses={201: None, 204: None})
    def on_put(self, req: falcon.Request, resp: falcon.Response, server_id: str, tag: str) -> None:
        _check_tag(tag)
        with self.compute.db.transaction() as session:
            row = self._server(req, session, server_id, True)
            if tag in {t.tag for t in row.tags}:
                resp.status = 204
                return
            if len(row.tags) >= LIMIT:
                raise Invalid(f"The number of tags exceeded the per-server limit {LIMIT}")
            row.tags.append(models.InstanceTag(tag=tag))
            row.updated_at = utcnow()
        resp.status = 201
        resp.location = f"{req.prefix}{req.path}"

    @schema("Remove a tag from a server (2.26)", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, server_id: str, tag: str) -> None:
        with self.compute.db.transaction() as session:
            row = self._server(req, session, server_id, True)
            kept = [t for t in row.tags if t.tag != tag]
            if len(kept) == len(row.tags):
                raise NotFound(f"Tag {tag} could not be found for instance {server_id}.")
            row.tags, row.updated_at = kept, utcnow()
        resp.status = 204
