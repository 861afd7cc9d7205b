"""``os-quota-sets`` and ``limits`` of block storage: what a project may hold and holds."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.microversions import at_least
from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Invalid
from stratus.volume import models, quotas
from stratus.volume.api.common import boolean, context
from stratus.volume.service import VolumeService

UPDATE = {"type": "object", "required": ["quota_set"], "properties": {"quota_set": {
    "type": "object", "properties": {r: {"type": ["integer", "string"]} for r in quotas.RESOURCES},
    "additionalProperties": True}}}


class QuotaSet:
    def __init__(self, service: VolumeService, policy: Policy, view: str = "") -> None:
        self.service, self.policy, self.view = service, policy, view

    @schema("A project's volume quotas (usage=true: with in_use; /defaults: the defaults)",
            responses={200: {"type": "object", "required": ["quota_set"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "volume_extension:quotas:show", {"project_id": project_id})
        if self.view == "defaults":
            with self.service.db.reading() as session:
                resp.media = {"quota_set": {"id": project_id, **quotas.defaults(self.service.conf, session)}}
            return
        with self.service.db.reading() as session:
            limit = quotas.limits(session, self.service.conf, project_id)
            if boolean("usage", req.get_param("usage") or "false"):
                used = quotas.usage(session, project_id)
                body: dict[str, Any] = {r: {"limit": v, "in_use": used.get(r, 0), "reserved": 0, "allocated": 0}
                                        for r, v in limit.items()}
            else:
                body = dict(limit)
        resp.media = {"quota_set": {"id": project_id, **body}}

    @schema("Set a project's volume quotas (administrators; -1 is unlimited)", request=UPDATE,
            responses={200: {"type": "object", "required": ["quota_set"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "volume_extension:quotas:update", {"project_id": project_id})
        with self.service.db.transaction() as session:
            wanted = parse_limits(req.context.body["quota_set"], quotas.known(session))
            _store(session, models.QuotaLimit, {"project_id": project_id}, wanted)
            resp.media = {"quota_set": quotas.limits(session, self.service.conf, project_id)}

    @schema("Return a project's volume quotas to the defaults (administrators)", responses={200: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "volume_extension:quotas:delete", {"project_id": project_id})
        with self.service.db.transaction() as session:
            session.execute(sa.delete(models.QuotaLimit).where(models.QuotaLimit.project_id == project_id))
        resp.status = 200


def _store(session: Any, model: Any, owner: dict[str, str], wanted: dict[str, int]) -> None:
    """Write ``wanted`` limits as rows of ``model`` keyed by ``owner`` and the resource."""
    (key,) = owner.values()
    for resource, number in wanted.items():
        row = session.get(model, (key, resource))
        if row is None:
            session.add(model(**owner, resource=resource, hard_limit=number))
        else:
            row.hard_limit = number
    session.flush()


def parse_limits(body: dict[str, Any], allowed: set[str]) -> dict[str, int]:
    """The limits a quota set body gives (``allowed``: the resources there are).

    :raises Invalid: an unknown resource or a bad number."""
    wanted = {}
    for resource, value in body.items():
        if resource not in allowed:
            if resource in ("tenant_id", "id", "class_name"):
                continue
            raise Invalid(f"Invalid input received: Bad key(s) in quota set: {resource}")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise Invalid(f"Invalid input received: Quota value {value!r} for {resource} is not an integer") from None
        if number < -1:
            raise Invalid(f"Invalid input received: Quota limit {number} for {resource} must be -1 or greater.")
        wanted[resource] = number
    return wanted


class QuotaClassSet:
    """``/os-quota-class-sets/{class_name}``: the ``default`` class is what projects without
    limits of their own get (it overrides ``[volume] quota_*``)."""

    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("A quota class's limits", responses={200: {"type": "object", "required": ["quota_class_set"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, class_name: str) -> None:
        enforce(req, self.policy, "volume_extension:quota_classes", {"project_id": context(req).project_id})
        with self.service.db.reading() as session:
            resp.media = {"quota_class_set": {"id": class_name,
                                              **quotas.defaults(self.service.conf, session, class_name)}}

    @schema("Set a quota class's limits (administrators)", request={
        "type": "object", "required": ["quota_class_set"], "properties": {"quota_class_set": {"type": "object"}}},
        responses={200: {"type": "object", "required": ["quota_class_set"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, class_name: str) -> None:
        enforce(req, self.policy, "volume_extension:quota_classes:update", {"project_id": context(req).project_id})
        if len(class_name) > 255:
            raise Invalid("Invalid input received: class name longer than 255 characters")
        with self.service.db.transaction() as session:
            wanted = parse_limits(req.context.body["quota_class_set"], quotas.known(session))
            _store(session, models.QuotaClassLimit, {"class_name": class_name}, wanted)
            resp.media = {"quota_class_set": quotas.defaults(self.service.conf, session, class_name)}


class Limits:
    @staticmethod
    def absolute(limit: dict[str, int], used: dict[str, int]) -> dict[str, int]:
        return {"maxTotalVolumes": limit["volumes"], "maxTotalSnapshots": limit["snapshots"],
                "maxTotalVolumeGigabytes": limit["gigabytes"], "maxTotalBackups": limit["backups"],
                "maxTotalBackupGigabytes": limit["backup_gigabytes"], "totalVolumesUsed": used["volumes"],
                "totalSnapshotsUsed": used["snapshots"], "totalGigabytesUsed": used["gigabytes"],
                "totalBackupsUsed": used["backups"], "totalBackupGigabytesUsed": used["backup_gigabytes"]}

    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("The project's absolute limits and use", responses={200: {"type": "object", "required": ["limits"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "limits_extension:used_limits", {"project_id": ctx.project_id})
        project = (req.get_param("project_id") if ctx.is_admin and at_least(req, "3.39") else None) \
            or ctx.project_id
        with self.service.db.reading() as session:
            body = self.absolute(quotas.limits(session, self.service.conf, project), quotas.usage(session, project))
        resp.media = {"limits": {"rate": [], "absolute": body}}
