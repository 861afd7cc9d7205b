"""The auth-backend slot (entry points ``stratus.auth``): where users and groups live.

As in Keystone, only users, groups, membership and password checks come from the
backend; projects, domains, roles and assignments stay in the identity service's SQL
whatever backend is chosen. IDs are opaque strings of at most 64 characters that the
backend keeps stable.

Mandatory: :class:`AuthBackend` (read and authenticate). Optional:
:class:`WritableIdentity` (capability ``WRITE``); read-only backends (LDAP) leave it out
and the API answers writes with 403.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from stratus.interfaces.base import ApiVersion, Driver

API_VERSION: ApiVersion = (1, 0)


class AuthCapability(enum.Flag):
    NONE = 0
    #: users, groups and membership can be created and changed (:class:`WritableIdentity`)
    WRITE = enum.auto()
    #: users can change their own password through the API
    PASSWORD_CHANGE = enum.auto()


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    domain_id: str
    enabled: bool = True
    email: str | None = None
    description: str | None = None
    default_project_id: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    name: str
    domain_id: str
    description: str | None = None
    #: attributes a client set beyond the known ones (Keystone keeps and shows them)
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ListQuery:
    """Filters and paging for list calls; None means "no filter"."""

    domain_id: str | None = None
    name: str | None = None
    enabled: bool | None = None
    limit: int | None = None
    marker: str | None = None


class AuthBackend(Driver):
    """Reads users and groups and checks passwords."""

    API_VERSION: ClassVar[ApiVersion] = API_VERSION
    CAPABILITIES: ClassVar[type[enum.Flag]] = AuthCapability
    capabilities: ClassVar[enum.Flag] = AuthCapability.NONE

    @abc.abstractmethod
    def authenticate(self, user_id: str, password: str) -> User:
        """Check ``password`` for ``user_id`` and return the user.

        Compares in constant time and never logs the password. Disabled users fail.

        :raises NotAuthenticated: unknown user, wrong password or disabled user — the
            same error for all three, so a caller learns nothing about which.
        """

    @abc.abstractmethod
    def get_user(self, user_id: str) -> User:
        """:raises NotFound: no such user."""

    @abc.abstractmethod
    def get_user_by_name(self, name: str, domain_id: str) -> User:
        """:raises NotFound: no such user in that domain."""

    @abc.abstractmethod
    def list_users(self, query: ListQuery) -> list[User]:
        """Return users matching ``query``, ordered by id, after ``marker``, at most ``limit``."""

    @abc.abstractmethod
    def get_group(self, group_id: str) -> Group:
        """:raises NotFound: no such group."""

    @abc.abstractmethod
    def list_groups(self, query: ListQuery) -> list[Group]:
        """As :meth:`list_users`, for groups."""

    @abc.abstractmethod
    def list_groups_for_user(self, user_id: str) -> list[Group]:
        """Groups ``user_id`` belongs to. :raises NotFound: no such user."""

    @abc.abstractmethod
    def list_users_in_group(self, group_id: str) -> list[User]:
        """Members of ``group_id``. :raises NotFound: no such group."""


class WritableIdentity(abc.ABC):
    """Capability ``WRITE``. Every method leaves nothing changed when it raises."""

    @abc.abstractmethod
    def create_user(self, user: User, password: str | None) -> User:
        """Store a new user (``user.id`` chosen by the core). :raises Conflict: name taken."""

    @abc.abstractmethod
    def update_user(self, user: User) -> User:
        """Replace the user's attributes. :raises NotFound, Conflict: as above."""

    @abc.abstractmethod
    def set_password(self, user_id: str, password: str) -> None:
        """Replace the stored password (hashed with a slow KDF). :raises NotFound."""

    @abc.abstractmethod
    def delete_user(self, user_id: str) -> None:
        """Remove the user and their memberships. :raises NotFound."""

    @abc.abstractmethod
    def create_group(self, group: Group) -> Group:
        """:raises Conflict: name taken in the domain."""

    @abc.abstractmethod
    def update_group(self, group: Group) -> Group:
        """:raises NotFound, Conflict."""

    @abc.abstractmethod
    def delete_group(self, group_id: str) -> None:
        """Remove the group and its memberships. :raises NotFound."""

    @abc.abstractmethod
    def add_user_to_group(self, user_id: str, group_id: str) -> None:
        """Idempotent. :raises NotFound: user or group."""

    @abc.abstractmethod
    def remove_user_from_group(self, user_id: str, group_id: str) -> None:
        """:raises NotFound: user, group, or the user is not a member."""


AuthBackend.CAPABILITY_INTERFACES = {AuthCapability.WRITE: WritableIdentity}
