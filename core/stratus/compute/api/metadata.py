"""A server's ``metadata`` and ``ips`` (Nova v2.1)."""

from __future__ import annotations

from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import models, quotas
from stratus.compute.api.common import context
from stratus.compute.api.servers import _addresses, find
from stratus.compute.instances import utcnow
from stratus.exceptions import Conflict, Invalid, NotFound

_META_VALUE = {"type": "string", "maxLength": 255}
_META = {"type": "object", "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255},
         "additionalProperties": _META_VALUE}
METADATA = {"type": "object", "required": ["metadata"], "additionalProperties": False,
            "properties": {"metadata": _META}}
META = {"type": "object", "required": ["meta"], "additionalProperties": False,
        "properties": {"meta": {**_META, "minProperties": 1, "maxProperties": 1}}}


def _set_metadata(session: Any, conf: Any, instance: models.Instance, items: dict[str, str], replace: bool) -> None:
    current = {} if replace else {m.key: m.value for m in instance.metadata_items}
    current.update(items)
    quotas.check_metadata(session, conf, instance.project_id, len(current))
    instance.metadata_items = [models.InstanceMetadata(key=k, value=v) for k, v in sorted(current.items())]
    instance.updated_at = utcnow()


class _MetadataBase:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    def _instance(self, session: Any, req: falcon.Request, server_id: str, action: str) -> models.Instance:
        instance = find(session, req, server_id)
        enforce(req, self.policy, f"os_compute_api:server-metadata:{action}", {"project_id": instance.project_id})
        if action != "index" and action != "show" and instance.locked and not context(req).is_admin:
            raise Conflict(f"Instance {server_id} is locked")
        return instance


class ServerMetadata(_MetadataBase):
    @schema("A server's metadata", responses={200: {"type": "object", "required": ["metadata"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        with self.compute.db.reading() as session:
            instance = self._instance(session, req, server_id, "index")
            resp.media = {"metadata": {m.key: m.value for m in instance.metadata_items}}

    @schema("Add or update metadata items", request=METADATA, responses={200: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        self._write(req, resp, server_id, replace=False)

    @schema("Replace all metadata", request=METADATA, responses={200: {"type": "object"}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        self._write(req, resp, server_id, replace=True)

    def _write(self, req: falcon.Request, resp: falcon.Response, server_id: str, replace: bool) -> None:
        with self.compute.db.transaction() as session:
            instance = self._instance(session, req, server_id, "update_all" if replace else "create")
            _set_metadata(session, self.compute.conf, instance, req.context.body["metadata"], replace)
            resp.media = {"metadata": {m.key: m.value for m in instance.metadata_items}}


class ServerMetadataItem(_MetadataBase):
    @schema("One metadata item", responses={200: {"type": "object", "required": ["meta"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str, key: str) -> None:
        with self.compute.db.reading() as session:
            items = {m.key: m.value for m in self._instance(session, req, server_id, "show").metadata_items}
        if key not in items:
            raise NotFound("Metadata item was not found")
        resp.media = {"meta": {key: items[key]}}

    @schema("Set one metadata item", request=META, responses={200: {"type": "object", "required": ["meta"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, server_id: str, key: str) -> None:
        item = req.context.body["meta"]
        if key not in item:
            raise Invalid("Request body and URI mismatch")
        with self.compute.db.transaction() as session:
            instance = self._instance(session, req, server_id, "update")
            _set_metadata(session, self.compute.conf, instance, item, replace=False)
        resp.media = {"meta": item}

    @schema("Delete one metadata item", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, server_id: str, key: str) -> None:
        with self.compute.db.transaction() as session:
            instance = self._instance(session, req, server_id, "delete")
            item = next((m for m in instance.metadata_items if m.key == key), None)
            if item is None:
                raise NotFound("Metadata item was not found")
            instance.metadata_items.remove(item)
            instance.updated_at = utcnow()
        resp.status = 204


class ServerIps:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("A server's addresses by network (or one network's)", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str, label: str | None = None) -> None:
        with self.compute.db.reading() as session:
            instance = find(session, req, server_id)
            enforce(req, self.policy, "os_compute_api:ips:index", {"project_id": instance.project_id})
            addresses = _addresses(instance)
        if label is None:
            resp.media = {"addresses": addresses}
        elif label in addresses:
            resp.media = {label: addresses[label]}
        else:
            raise NotFound("Instance is not a member of specified network")
