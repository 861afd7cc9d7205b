"""The ``sql`` auth backend: users, groups and memberships in the identity database."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

from stratus.db.engine import Database
from stratus.exceptions import Conflict, NotAuthenticated, NotFound
from stratus.identity import models, passwords
from stratus.interfaces import auth

AUTH_FAILED = "The request you have made requires authentication."


def _user(row: models.User) -> auth.User:
    return auth.User(row.id, row.name, row.domain_id, row.enabled, row.email, row.description,
                     row.default_project_id, dict(row.extra or {}))


def _group(row: models.Group) -> auth.Group:
    return auth.Group(row.id, row.name, row.domain_id, row.description, dict(row.extra or {}))


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class SqlAuthBackend(auth.AuthBackend, auth.WritableIdentity):
    """Users and groups in SQL, passwords hashed with Argon2id."""

    api_version = (1, 0)
    capabilities = auth.AuthCapability.WRITE | auth.AuthCapability.PASSWORD_CHANGE

    def __init__(self, conf: Any, db: Database | None = None) -> None:
        super().__init__(conf)
        self.db = db or Database.for_service(conf, "identity")
        self._hash_params = {
            "memory_cost": conf.identity.argon2_memory_cost,
            "time_cost": conf.identity.argon2_time_cost,
            "max_length": conf.identity.max_password_length,
        }

    # -- reading -------------------------------------------------------------------

    def authenticate(self, user_id: str, password: str) -> auth.User:
        with self.db.transaction() as session:
            row = session.get(models.User, user_id)
            user = _user(row) if row is not None else None
            encoded = row.password_hash if row is not None else None
        ok = passwords.verify_password(password, encoded)
        if not ok or user is None or not user.enabled:
            raise NotAuthenticated(AUTH_FAILED)
        return user

    def get_user(self, user_id: str) -> auth.User:
        with self.db.transaction() as session:
            row = session.get(models.User, user_id)
            if row is None:
                raise NotFound(f"Could not find user: {user_id}.")
            return _user(row)

    def get_user_by_name(self, name: str, domain_id: str) -> auth.User:
        with self.db.transaction() as session:
            row = session.scalar(sa.select(models.User).where(models.User.name == name,
                                                              models.User.domain_id == domain_id))
            if row is None:
                raise NotFound(f"Could not find user: {name}.")
            return _user(row)

    @staticmethod
    def _filtered(model: Any, query: auth.ListQuery) -> sa.Select:
        select = sa.select(model).order_by(model.id)
        if query.domain_id is not None:
            select = select.where(model.domain_id == query.domain_id)
        if query.name is not None:
            select = select.where(model.name == query.name)
        if query.enabled is not None and hasattr(model, "enabled"):
            select = select.where(model.enabled == query.enabled)
        if query.marker is not None:
            select = select.where(model.id > query.marker)
        if query.limit is not None:
            select = select.limit(query.limit)
        return select

    def list_users(self, query: auth.ListQuery) -> list[auth.User]:
        with self.db.transaction() as session:
            return [_user(r) for r in session.scalars(self._filtered(models.User, query))]

    def get_group(self, group_id: str) -> auth.Group:
        with self.db.transaction() as session:
            row = session.get(models.Group, group_id)
            if row is None:
                raise NotFound(f"Could not find group: {group_id}.")
            return _group(row)

    def list_groups(self, query: auth.ListQuery) -> list[auth.Group]:
        with self.db.transaction() as session:
            return [_group(r) for r in session.scalars(self._filtered(models.Group, query))]

    def list_groups_for_user(self, user_id: str) -> list[auth.Group]:
        with self.db.transaction() as session:
            if session.get(models.User, user_id) is None:
                raise NotFound(f"Could not find user: {user_id}.")
            select = (sa.select(models.Group).join(models.Membership, models.Membership.group_id == models.Group.id)
                      .where(models.Membership.user_id == user_id).order_by(models.Group.id))
            return [_group(r) for r in session.scalars(select)]

    def list_users_in_group(self, group_id: str) -> list[auth.User]:
        with self.db.transaction() as session:
            if session.get(models.Group, group_id) is None:
                raise NotFound(f"Could not find group: {group_id}.")
            select = (sa.select(models.User).join(models.Membership, models.Membership.user_id == models.User.id)
                      .where(models.Membership.group_id == group_id).order_by(models.User.id))
            return [_user(r) for r in session.scalars(select)]

    # -- writing -------------------------------------------------------------------

    def create_user(self, user: auth.User, password: str | None) -> auth.User:
        encoded = passwords.hash_password(password, **self._hash_params) if password else None
        now = _utcnow()
        try:
            with self.db.transaction() as session:
                session.add(models.User(
                    id=user.id, name=user.name, domain_id=user.domain_id, enabled=user.enabled, email=user.email,
                    description=user.description, default_project_id=user.default_project_id,
                    extra=dict(user.extra), password_hash=encoded, password_created_at=now if encoded else None,
                    created_at=now,
                ))
        except sa.exc.IntegrityError:
            raise Conflict(f"Duplicate entry found with name {user.name} at domain ID {user.domain_id}.") from None
        return self.get_user(user.id)

    def update_user(self, user: auth.User) -> auth.User:
        try:
            with self.db.transaction() as session:
                row = session.get(models.User, user.id)
                if row is None:
                    raise NotFound(f"Could not find user: {user.id}.")
                row.name, row.enabled, row.email = user.name, user.enabled, user.email
                row.description, row.default_project_id = user.description, user.default_project_id
                row.extra = dict(user.extra)
        except sa.exc.IntegrityError:
            raise Conflict(f"Duplicate entry found with name {user.name} at domain ID {user.domain_id}.") from None
        return self.get_user(user.id)

    def set_password(self, user_id: str, password: str) -> None:
        encoded = passwords.hash_password(password, **self._hash_params)
        with self.db.transaction() as session:
            row = session.get(models.User, user_id)
            if row is None:
                raise NotFound(f"Could not find user: {user_id}.")
            row.password_hash, row.password_created_at = encoded, _utcnow()

    def delete_user(self, user_id: str) -> None:
        with self.db.transaction() as session:
            session.execute(sa.delete(models.Membership).where(models.Membership.user_id == user_id))
            if not session.execute(sa.delete(models.User).where(models.User.id == user_id)).rowcount:
                raise NotFound(f"Could not find user: {user_id}.")

    def create_group(self, group: auth.Group) -> auth.Group:
        try:
            with self.db.transaction() as session:
                session.add(models.Group(id=group.id, name=group.name, domain_id=group.domain_id,
                                         description=group.description, extra=dict(group.extra)))
        except sa.exc.IntegrityError:
            raise Conflict(f"Duplicate entry found with name {group.name} at domain ID {group.domain_id}.") from None
        return self.get_group(group.id)

    def update_group(self, group: auth.Group) -> auth.Group:
        try:
            with self.db.transaction() as session:
                row = session.get(models.Group, group.id)
                if row is None:
                    raise NotFound(f"Could not find group: {group.id}.")
                row.name, row.description, row.extra = group.name, group.description, dict(group.extra)
        except sa.exc.IntegrityError:
            raise Conflict(f"Duplicate entry found with name {group.name} at domain ID {group.domain_id}.") from None
        return self.get_group(group.id)

    def delete_group(self, group_id: str) -> None:
        with self.db.transaction() as session:
            session.execute(sa.delete(models.Membership).where(models.Membership.group_id == group_id))
            if not session.execute(sa.delete(models.Group).where(models.Group.id == group_id)).rowcount:
                raise NotFound(f"Could not find group: {group_id}.")

    def add_user_to_group(self, user_id: str, group_id: str) -> None:
        with self.db.transaction() as session:
            if session.get(models.User, user_id) is None:
                raise NotFound(f"Could not find user: {user_id}.")
            if session.get(models.Group, group_id) is None:
                raise NotFound(f"Could not find group: {group_id}.")
            if session.get(models.Membership, (user_id, group_id)) is None:
                session.add(models.Membership(user_id=user_id, group_id=group_id))

    def remove_user_from_group(self, user_id: str, group_id: str) -> None:
        with self.db.transaction() as session:
            deleted = session.execute(sa.delete(models.Membership).where(
                models.Membership.user_id == user_id, models.Membership.group_id == group_id)).rowcount
            if not deleted:
                raise NotFound(f"User {user_id} is not a member of group {group_id}.")
