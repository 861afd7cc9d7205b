"""``/v2/images/{id}/members``: the owner shares a ``shared`` image with projects; each
member project accepts or rejects it (only accepted images appear in its default list)."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Conflict, Forbidden, NotFound, PayloadTooLarge
from stratus.image import listing, models, states
from stratus.image.api import views
from stratus.image.service import ImageService

MEMBER = {"type": "object", "required": ["image_id", "member_id", "status"]}
ADD = {"type": "object", "required": ["member"],
       "properties": {"member": {"type": "string", "minLength": 1, "maxLength": 64}}}
UPDATE = {"type": "object", "required": ["status"], "properties": {"status": {"enum": list(listing.MEMBER_STATUSES)}}}


def _shared_image(images: ImageService, req: falcon.Request, session: Any, image_id: str) -> models.Image:
    row = listing.load(session, image_id, req.context.stratus)
    if row is None:
        raise NotFound(f"No image found with ID {image_id}")
    if row.visibility != "shared":
        raise Forbidden(f"Only shared images have members; image {image_id} is {row.visibility}.")
    return row


def _is_owner(req: falcon.Request, row: models.Image) -> bool:
    context = req.context.stratus
    return context.is_admin or row.owner == context.project_id


class Members:
    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    @schema("Share the image with a project", request=ADD, responses={200: MEMBER})
    def on_post(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        member = req.context.body["member"]
        with self.images.db.transaction() as session:
            row = _shared_image(self.images, req, session, image_id)
            enforce(req, self.policy, "image:add_member", {"project_id": row.owner})
            if not _is_owner(req, row):
                raise Forbidden("Only the image's owner may share it.")
            count = session.scalar(sa.select(sa.func.count()).select_from(models.ImageMember)
                                   .where(models.ImageMember.image_id == image_id)) or 0
            quota = self.images.conf.image.image_member_quota
            if 0 <= quota <= count:
                raise PayloadTooLarge(f"Maximum number of members exceeded: an image may have {quota}")
            if session.get(models.ImageMember, (image_id, member)) is not None:
                raise Conflict(f"Project {member} is already a member of image {image_id}")
            now = states.now()
            record = models.ImageMember(image_id=image_id, member=member, status="pending", created_at=now,
                                        updated_at=now)
            session.add(record)
        resp.media = views.member(record)

    @schema("List the image's members (a member sees only itself)",
            responses={200: {"type": "object", "required": ["members"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        with self.images.db.transaction() as session:
            row = _shared_image(self.images, req, session, image_id)
            enforce(req, self.policy, "image:get_members")
            query = sa.select(models.ImageMember).where(models.ImageMember.image_id == image_id)
            if not _is_owner(req, row):
                query = query.where(models.ImageMember.member == req.context.stratus.project_id)
            members = [views.member(m) for m in session.scalars(query.order_by(models.ImageMember.created_at))]
        resp.media = {"members": members, "schema": "/v2/schemas/members"}


class Member:
    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    def _find(self, req: falcon.Request, session: Any, image_id: str,
              member_id: str) -> tuple[models.Image, models.ImageMember]:
        row = _shared_image(self.images, req, session, image_id)
        record = session.get(models.ImageMember, (image_id, member_id))
        if record is None or not (_is_owner(req, row) or member_id == req.context.stratus.project_id):
            raise NotFound(f"Project {member_id} is not a member of image {image_id}")
        return row, record

    @schema("Show one membership", responses={200: MEMBER})
    def on_get(self, req: falcon.Request, resp: falcon.Response, image_id: str, member_id: str) -> None:
        enforce(req, self.policy, "image:get_member")
        with self.images.db.transaction() as session:
            resp.media = views.member(self._find(req, session, image_id, member_id)[1])

    @schema("Accept or reject a shared image (the member project only)", request=UPDATE, responses={200: MEMBER})
    def on_put(self, req: falcon.Request, resp: falcon.Response, image_id: str, member_id: str) -> None:
        with self.images.db.transaction() as session:
            _, record = self._find(req, session, image_id, member_id)
            enforce(req, self.policy, "image:modify_member", {"project_id": member_id})
            if member_id != req.context.stratus.project_id:
                raise Forbidden("Only the member project may accept or reject a shared image.")
            record.status = req.context.body["status"]
            record.updated_at = states.now()
            session.flush()
            resp.media = views.member(record)

    @schema("Stop sharing the image with a project (the owner only)", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, image_id: str, member_id: str) -> None:
        with self.images.db.transaction() as session:
            row, record = self._find(req, session, image_id, member_id)
            enforce(req, self.policy, "image:delete_member", {"project_id": row.owner})
            if not _is_owner(req, row):
                raise Forbidden("Only the image's owner may remove a member.")
            session.delete(record)
        resp.status = 204
