"""The metadata of volumes and snapshots: ``.../metadata`` (the whole of it) and
``.../metadata/{key}`` (one key), the same for both, with ETags (3.15) where Cinder has
them (volumes)."""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar

import falcon

from stratus.api.microversions import at_least
from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Invalid, NotFound
from stratus.volume import models
from stratus.volume.api.common import context, metadata_schema
from stratus.volume.models import utcnow
from stratus.volume.service import VolumeService

METADATA = {"type": "object", "required": ["metadata"], "properties": {"metadata": metadata_schema()}}
META_ITEM = {"type": "object", "required": ["meta"], "properties": {"meta": {**metadata_schema(), "minProperties": 1,
                                                                             "maxProperties": 1}}}
_ANSWER = {200: {"type": "object", "required": ["metadata"]}}


def etag(items: dict[str, str]) -> str:
    return hashlib.md5(json.dumps(items, sort_keys=True).encode(), usedforsecurity=False).hexdigest()


class Metadata:
    """``.../metadata`` of the resource a subclass names (its path field, how it is found, its
    item model and policy rules)."""

    FIELD: ClassVar[str]
    ITEM: ClassVar[Any]
    RULES: ClassVar[dict[str, str]]  # read, write, delete
    ETAGS: ClassVar[bool] = False

    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    def owner(self, session: Any, req: falcon.Request, owner_id: str) -> Any:
        raise NotImplementedError

    def _load(self, session: Any, req: falcon.Request, ids: dict[str, str], rule: str) -> Any:
        owner = self.owner(session, req, ids[self.FIELD])
        enforce(req, self.policy, self.RULES[rule], {"project_id": owner.project_id})
        return owner

    def read(self, req: falcon.Request, ids: dict[str, str]) -> dict[str, str]:
        with self.service.db.reading() as session:
            return {m.key: m.value for m in self._load(session, req, ids, "read").metadata_items}

    def write(self, req: falcon.Request, ids: dict[str, str], items: dict[str, str], replace: bool) -> dict[str, str]:
        with self.service.db.transaction() as session:
            owner = self._load(session, req, ids, "write")
            current = {} if replace else {m.key: m.value for m in owner.metadata_items}
            current.update(items)
            owner.metadata_items = [self.ITEM(key=k, value=v) for k, v in current.items()]
            owner.updated_at = utcnow()
            return current

    @schema("The metadata (with an ETag from 3.15, for volumes)", responses=_ANSWER)
    def on_get(self, req: falcon.Request, resp: falcon.Response, **ids: str) -> None:
        items = self.read(req, ids)
        resp.media = {"metadata": items}
        if self.ETAGS and at_least(req, "3.15"):
            resp.etag = etag(items)

    @schema("Add to (or change) the metadata", request=METADATA, responses=_ANSWER)
    def on_post(self, req: falcon.Request, resp: falcon.Response, **ids: str) -> None:
        resp.media = {"metadata": self.write(req, ids, req.context.body["metadata"], replace=False)}

    @schema("Replace the metadata (volumes, from 3.15: If-Match with the ETag read, 412 if it changed since)",
            request=METADATA, responses=_ANSWER)
    def on_put(self, req: falcon.Request, resp: falcon.Response, **ids: str) -> None:
        wanted = req.get_header("If-Match") if self.ETAGS and at_least(req, "3.15") else None
        if wanted is not None and wanted.strip('"') != etag(self.read(req, ids)):
            raise falcon.HTTPPreconditionFailed(description="The metadata changed since it was read (If-Match does "
                                                "not match its ETag).")
        resp.media = {"metadata": self.write(req, ids, req.context.body["metadata"], replace=True)}


class MetadataItem(Metadata):
    """``.../metadata/{key}``."""

    @schema("One metadata key", responses={200: {"type": "object", "required": ["meta"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, **ids: str) -> None:
        key = ids["key"]
        items = self.read(req, ids)
        if key not in items:
            raise NotFound(f"Metadata item was not found: {key}")
        resp.media = {"meta": {key: items[key]}}

    @schema("Set one metadata key (meta holds exactly that key)", request=META_ITEM,
            responses={200: {"type": "object", "required": ["meta"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, **ids: str) -> None:
        meta = req.context.body["meta"]
        if ids["key"] not in meta:
            raise Invalid("Invalid input received: Request body and URI mismatch")
        self.write(req, ids, meta, replace=False)
        resp.media = {"meta": meta}

    @schema("Delete a metadata key", responses={200: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, **ids: str) -> None:
        key = ids["key"]
        with self.service.db.transaction() as session:
            owner = self._load(session, req, ids, "delete")
            remaining = [m for m in owner.metadata_items if m.key != key]
            if len(remaining) == len(owner.metadata_items):
                raise NotFound(f"Metadata item was not found: {key}")
            owner.metadata_items = remaining
            owner.updated_at = utcnow()
        resp.status = 200


class _VolumeOwned:
    FIELD = "volume_id"
    RULES: ClassVar[dict[str, str]] = {"read": "volume:get_volume_metadata", "write": "volume:create_volume_metadata",
                                       "delete": "volume:delete_volume_metadata"}
    ETAGS = True

    def owner(self, session: Any, req: falcon.Request, owner_id: str) -> Any:
        return self.service.volume(session, context(req), owner_id)


class _SnapshotOwned:
    FIELD = "snapshot_id"
    RULES: ClassVar[dict[str, str]] = {"read": "volume:get_snapshot", "write": "volume:update_snapshot",
                                       "delete": "volume:update_snapshot"}

    def owner(self, session: Any, req: falcon.Request, owner_id: str) -> Any:
        return self.service.snapshot(session, context(req), owner_id)


class VolumeMetadata(_VolumeOwned, Metadata):
    ITEM = models.VolumeMetadata


class VolumeMetadataItem(_VolumeOwned, MetadataItem):
    ITEM = models.VolumeMetadata


class SnapshotMetadata(_SnapshotOwned, Metadata):
    ITEM = models.SnapshotMetadata


class SnapshotMetadataItem(_SnapshotOwned, MetadataItem):
    ITEM = models.SnapshotMetadata
