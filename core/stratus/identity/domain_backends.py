"""Users and groups from each domain's own backend (domain-specific drivers).

:class:`DomainBackends` is the auth backend the identity service uses when ``[identity]
domain_specific_drivers_enabled`` is on: a domain whose configuration
(:mod:`stratus.identity.domain_config`) names a ``driver`` gets an instance of that driver
built from the cloud's configuration with the domain's options on top; every other domain
uses the cloud's ``[identity] driver``.

Users and groups of a domain-specific backend get public ids (a sha256 of the domain, the
backend's own id and the kind, recorded in ``id_mappings``), so two directories may both
hold an "alice"; the default backend's ids are shown unchanged. A domain's configuration is
read at each use, so a change takes effect at once in every API process; the backends built
from it are kept while it stays the same.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
from typing import Any, TypeVar

from stratus import loading
from stratus.db.engine import Database
from stratus.exceptions import BackendUnavailable, UnsupportedOperation
from stratus.identity import domain_config, models
from stratus.interfaces.auth import AuthBackend, AuthCapability, Group, ListQuery, User, WritableIdentity

LOG = logging.getLogger(__name__)
Entity = TypeVar("Entity", User, Group)


def public_id(domain_id: str, local_id: str, kind: str) -> str:
    return hashlib.sha256(f"{domain_id}\0{local_id}\0{kind}".encode()).hexdigest()


class DomainBackends(AuthBackend, WritableIdentity):
    """Routes each call to the backend of the domain concerned (see the module)."""

    api_version = (1, 0)

    def __init__(self, conf: Any, default: AuthBackend, db: Database) -> None:
        super().__init__(conf)
        self.default, self.db = default, db
        self._built: dict[str, tuple[str, AuthBackend]] = {}
        self._lock = threading.Lock()

    @property
    def capabilities(self) -> Any:  # type: ignore[override]
        return self.default.capabilities

    @property
    def driver_name(self) -> str:
        return getattr(self.default, "driver_name", type(self.default).__name__)

    # -- which backend ----------------------------------------------------------------

    def for_domain(self, domain_id: str | None) -> AuthBackend:
        """The backend holding ``domain_id``'s users and groups.

        :raises BackendUnavailable: the domain's configured driver cannot be loaded.
        """
        if domain_id is None:
            return self.default
        with self.db.reading() as session:
            config = domain_config.read(session, domain_id, sensitive=True)
        driver = config.get("identity", {}).get("driver")
        if not driver:
            return self.default
        fingerprint = json.dumps(config, sort_keys=True, default=str)
        with self._lock:
            built = self._built.get(domain_id)
            if built is not None and built[0] == fingerprint:
                return built[1]
        backend = self._build(domain_id, driver, config)
        with self._lock:
            self._built[domain_id] = (fingerprint, backend)
        return backend

    def _build(self, domain_id: str, driver: str, config: domain_config.Config) -> AuthBackend:
        from stratus import conf as stratus_conf

        try:
            cls = loading.load_driver_class("stratus.auth", driver)
            conf = stratus_conf.build(list(getattr(self.conf, "config_file", None) or []))
            loading.register_driver_opts(conf, cls)
            for group, options in config.items():
                for option, value in options.items():
                    if group != "identity" or option != "driver":
                        conf.set_override(option, value, group=group)
            if "ldap" in config or any(g == "ldap" for g, _ in cls.list_opts()):
                conf.set_override("domain_id", domain_id, group="ldap")
            return loading.load_driver("stratus.auth", driver, conf)
        except Exception as exc:  # a domain's bad configuration must not take the cloud down
            LOG.warning("domain %s: its identity backend %r does not load: %s", domain_id, driver, exc)
            raise BackendUnavailable(f"The identity backend of domain {domain_id} ({driver}) is unavailable: "
                                     f"{exc}") from None

    def _specific(self, backend: AuthBackend) -> bool:
        return backend is not self.default

    # -- ids --------------------------------------------------------------------------

    def _resolve(self, public: str, kind: str) -> tuple[AuthBackend, str]:
        """The backend holding ``public`` and its id there."""
        with self.db.reading() as session:
            mapping = session.get(models.IdMapping, public)
        if mapping is not None and mapping.entity_type == kind:
            backend = self.for_domain(mapping.domain_id)
            if self._specific(backend):
                return backend, mapping.local_id
        return self.default, public

    def _public(self, backend: AuthBackend, entity: Entity, kind: str) -> Entity:
        if not self._specific(backend):
            return entity
        mapped = public_id(entity.domain_id, entity.id, kind)
        with self.db.transaction() as session:
            if session.get(models.IdMapping, mapped) is None:
                session.add(models.IdMapping(public_id=mapped, domain_id=entity.domain_id, local_id=entity.id,
                                             entity_type=kind))
        return dataclasses.replace(entity, id=mapped)

    def _publics(self, backend: AuthBackend, entities: list[Entity], kind: str) -> list[Entity]:
        return [self._public(backend, e, kind) for e in entities]

    def _listed(self, backend: AuthBackend, query: ListQuery, entities: list[Entity], kind: str) -> list[Entity]:
        if not self._specific(backend):
            return entities
        shown = sorted(self._publics(backend, entities, kind), key=lambda e: e.id)
        if query.marker:
            shown = [e for e in shown if e.id > query.marker]
        return shown[:query.limit] if query.limit else shown

    # -- reads ------------------------------------------------------------------------

    def authenticate(self, user_id: str, password: str) -> User:
        backend, local = self._resolve(user_id, "user")
        return self._public(backend, backend.authenticate(local, password), "user")

    def get_user(self, user_id: str) -> User:
        backend, local = self._resolve(user_id, "user")
        return self._public(backend, backend.get_user(local), "user")

    def get_user_by_name(self, name: str, domain_id: str) -> User:
        backend = self.for_domain(domain_id)
        return self._public(backend, backend.get_user_by_name(name, domain_id), "user")

    def list_users(self, query: ListQuery) -> list[User]:
        backend = self.for_domain(query.domain_id)
        if not self._specific(backend):
            return backend.list_users(query)
        return self._listed(backend, query, backend.list_users(dataclasses.replace(query, limit=None, marker=None)),
                            "user")

    def get_group(self, group_id: str) -> Group:
        backend, local = self._resolve(group_id, "group")
        return self._public(backend, backend.get_group(local), "group")

    def list_groups(self, query: ListQuery) -> list[Group]:
        backend = self.for_domain(query.domain_id)
        if not self._specific(backend):
            return backend.list_groups(query)
        return self._listed(backend, query, backend.list_groups(dataclasses.replace(query, limit=None, marker=None)),
                            "group")

    def list_groups_for_user(self, user_id: str) -> list[Group]:
        backend, local = self._resolve(user_id, "user")
        return self._publics(backend, backend.list_groups_for_user(local), "group")

    def list_users_in_group(self, group_id: str) -> list[User]:
        backend, local = self._resolve(group_id, "group")
        return self._publics(backend, backend.list_users_in_group(local), "user")

    # -- writes: only where the domain's backend takes them ------------------------------

    def writable(self, domain_id: str | None, what: str) -> WritableIdentity:
        """:raises UnsupportedOperation: the domain's backend is read-only."""
        backend = self.for_domain(domain_id)
        if AuthCapability.WRITE not in backend.capabilities or not isinstance(backend, WritableIdentity):
            raise UnsupportedOperation(f"{what} is not supported by the identity backend of domain {domain_id}")
        if self._specific(backend):
            raise UnsupportedOperation(f"{what} in domain {domain_id}: its own backend is read-only here")
        return backend

    def _writable_for(self, public: str, kind: str, what: str) -> tuple[WritableIdentity, str]:
        backend, local = self._resolve(public, kind)
        entity = backend.get_user(local) if kind == "user" else backend.get_group(local)
        return self.writable(entity.domain_id, what), local

    def create_user(self, user: User, password: str | None) -> User:
        return self.writable(user.domain_id, "Creating a user").create_user(user, password)

    def update_user(self, user: User) -> User:
        backend, _ = self._writable_for(user.id, "user", "Updating a user")
        return backend.update_user(user)

    def set_password(self, user_id: str, password: str) -> None:
        backend, local = self._resolve(user_id, "user")
        if self._specific(backend) or not isinstance(backend, WritableIdentity):
            raise UnsupportedOperation("Changing a password is not supported by this user's identity backend")
        backend.set_password(local, password)

    def delete_user(self, user_id: str) -> None:
        backend, local = self._writable_for(user_id, "user", "Deleting a user")
        backend.delete_user(local)

    def create_group(self, group: Group) -> Group:
        return self.writable(group.domain_id, "Creating a group").create_group(group)

    def update_group(self, group: Group) -> Group:
        backend, _ = self._writable_for(group.id, "group", "Updating a group")
        return backend.update_group(group)

    def delete_group(self, group_id: str) -> None:
        backend, local = self._writable_for(group_id, "group", "Deleting a group")
        backend.delete_group(local)

    def add_user_to_group(self, user_id: str, group_id: str) -> None:
        backend, local_group = self._writable_for(group_id, "group", "Changing group membership")
        _, local_user = self._resolve(user_id, "user")
        backend.add_user_to_group(local_user, local_group)

    def remove_user_from_group(self, user_id: str, group_id: str) -> None:
        backend, local_group = self._writable_for(group_id, "group", "Changing group membership")
        _, local_user = self._resolve(user_id, "user")
        backend.remove_user_from_group(local_user, local_group)

    def close(self) -> None:
        for _, backend in self._built.values():
            getattr(backend, "close", lambda: None)()

