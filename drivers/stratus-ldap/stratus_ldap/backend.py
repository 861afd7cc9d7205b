"""The ``ldap`` auth backend: users and groups read from a directory, passwords checked by bind.

Read-only (no ``WRITE`` capability): the identity API answers writes with 403. Every value
that reaches a filter is escaped (RFC 4515), so a name like ``*)(uid=*`` matches nothing
instead of everything; an empty password is refused before any bind (an LDAP simple bind
with an empty password is an *unauthenticated* bind that servers accept).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import ldap3
from ldap3.core import exceptions as ldap_errors
from ldap3.utils.conv import escape_filter_chars

from stratus.exceptions import BackendUnavailable, ConfigError, NotAuthenticated, NotFound
from stratus.interfaces import auth
from stratus_ldap import opts

AUTH_FAILED = "The request you have made requires authentication."
_REQ_CERT = {"demand": ssl.CERT_REQUIRED, "allow": ssl.CERT_OPTIONAL, "never": ssl.CERT_NONE}


def _first(entry: dict[str, Any], attribute: str | None) -> str | None:
    if not attribute:
        return None
    values = entry.get(attribute)
    if isinstance(values, list):
        return str(values[0]) if values else None
    return None if values is None else str(values)


class LdapAuthBackend(auth.AuthBackend):
    """Users and groups from LDAP (read-only)."""

    api_version = (1, 0)
    capabilities = auth.AuthCapability.NONE

    @classmethod
    def list_opts(cls) -> list[tuple[str, list[Any]]]:
        return opts.list_opts()

    def __init__(self, conf: Any) -> None:
        super().__init__(conf)
        c = conf.ldap
        self.c = c
        self.user_tree = c.user_tree_dn or f"ou=Users,{c.suffix}"
        self.group_tree = c.group_tree_dn or f"ou=Groups,{c.suffix}"
        self.scope = ldap3.LEVEL if c.query_scope == "one" else ldap3.SUBTREE
        tls = None
        if c.use_tls or any(u.strip().startswith("ldaps://") for u in c.url.split(",")):
            if c.tls_cacertfile is not None and not c.tls_cacertfile:
                raise ConfigError("[ldap] tls_cacertfile is empty")
            tls = ldap3.Tls(validate=_REQ_CERT[c.tls_req_cert], ca_certs_file=c.tls_cacertfile or None)
        servers = [ldap3.Server(url.strip(), tls=tls, connect_timeout=c.connection_timeout, get_info=ldap3.NONE)
                   for url in c.url.split(",") if url.strip()]
        if not servers:
            raise ConfigError("[ldap] url names no directory")
        self.pool = ldap3.ServerPool(servers, ldap3.FIRST, active=1, exhaust=False)
        self.user_attributes = [a for a in (c.user_id_attribute, c.user_name_attribute, c.user_mail_attribute,
                                            c.user_description_attribute, c.user_enabled_attribute) if a]
        self.group_attributes = [a for a in (c.group_id_attribute, c.group_name_attribute,
                                             c.group_description_attribute) if a]

    # -- connections --------------------------------------------------------------

    def _connect(self, user: str | None, password: str | None) -> ldap3.Connection:
        """An open, bound connection. :raises NotAuthenticated: the bind was refused."""
        connection = ldap3.Connection(self.pool, user=user, password=password, raise_exceptions=True,
                                      receive_timeout=self.c.connection_timeout, read_only=True)
        try:
            connection.open()
            if self.c.use_tls:
                connection.start_tls()
            connection.bind()
        except ldap_errors.LDAPInvalidCredentialsResult:
            connection.unbind()
            raise NotAuthenticated(AUTH_FAILED) from None
        except (ldap_errors.LDAPSocketOpenError, ldap_errors.LDAPSocketReceiveError,
                ldap_errors.LDAPServerPoolExhaustedError, ldap_errors.LDAPStartTLSError) as exc:
            raise BackendUnavailable(f"LDAP directory {self.c.url} unreachable: {exc}") from None
        except ldap_errors.LDAPException as exc:
            raise BackendUnavailable(f"LDAP directory {self.c.url} refused the search bind: {exc}") from None
        return connection

    def _search(self, base: str, search_filter: str, attributes: list[str]) -> Iterator[tuple[str, dict]]:
        connection = self._connect(self.c.user, self.c.password)
        try:
            kwargs: dict[str, Any] = {"search_scope": self.scope, "attributes": attributes}
            if self.c.page_size:
                entries = connection.extend.standard.paged_search(
                    base, search_filter, paged_size=self.c.page_size, generator=False, **kwargs)
            else:
                connection.search(base, search_filter, **kwargs)
                entries = connection.response
            for entry in entries:
                if entry.get("type") == "searchResEntry":
                    yield entry["dn"], entry["attributes"]
        except ldap_errors.LDAPNoSuchObjectResult:
            return
        except ldap_errors.LDAPException as exc:
            raise BackendUnavailable(f"LDAP search under {base} failed: {exc}") from None
        finally:
            connection.unbind()

    # -- mapping ------------------------------------------------------------------

    def _enabled(self, entry: dict[str, Any]) -> bool:
        if not self.c.user_enabled_attribute:
            return True
        value = _first(entry, self.c.user_enabled_attribute)
        if value is None:
            enabled = True
        elif self.c.user_enabled_mask:
            try:
                enabled = not (int(value) & self.c.user_enabled_mask)
            except ValueError:
                enabled = False
        else:
            enabled = value.strip().lower() in ("true", "1", "yes", "enabled")
        return enabled != self.c.user_enabled_invert

    def _user(self, entry: dict[str, Any]) -> auth.User | None:
        user_id = _first(entry, self.c.user_id_attribute)
        name = _first(entry, self.c.user_name_attribute)
        if not user_id or not name or len(user_id) > 64:
            return None
        return auth.User(user_id, name, self.c.domain_id, self._enabled(entry),
                         _first(entry, self.c.user_mail_attribute), _first(entry, self.c.user_description_attribute))

    def _group(self, entry: dict[str, Any]) -> auth.Group | None:
        group_id = _first(entry, self.c.group_id_attribute)
        name = _first(entry, self.c.group_name_attribute)
        if not group_id or not name or len(group_id) > 64:
            return None
        return auth.Group(group_id, name, self.c.domain_id, _first(entry, self.c.group_description_attribute))

    @staticmethod
    def _and(*parts: str | None) -> str:
        present = [p if p.startswith("(") else f"({p})" for p in parts if p]
        return f"(&{''.join(present)})" if len(present) > 1 else present[0]

    def _user_filter(self, **equals: str) -> str:
        checks = [f"({attribute}={escape_filter_chars(value)})" for attribute, value in equals.items()]
        return self._and(f"objectClass={escape_filter_chars(self.c.user_objectclass)}", self.c.user_filter, *checks)

    def _group_filter(self, **equals: str) -> str:
        checks = [f"({attribute}={escape_filter_chars(value)})" for attribute, value in equals.items()]
        return self._and(f"objectClass={escape_filter_chars(self.c.group_objectclass)}", self.c.group_filter,
                         *checks)

    def _find_user(self, **equals: str) -> tuple[str, auth.User]:
        for dn, entry in self._search(self.user_tree, self._user_filter(**equals), self.user_attributes):
            user = self._user(entry)
            if user is not None:
                return dn, user
        raise NotFound(f"Could not find user: {next(iter(equals.values()))}.")

    def _find_group(self, group_id: str) -> tuple[str, auth.Group, list[str]]:
        attributes = [*self.group_attributes, self.c.group_member_attribute]
        search = self._group_filter(**{self.c.group_id_attribute: group_id})
        for dn, entry in self._search(self.group_tree, search, attributes):
            group = self._group(entry)
            if group is not None:
                members = entry.get(self.c.group_member_attribute) or []
                return dn, group, [str(m) for m in members]
        raise NotFound(f"Could not find group: {group_id}.")

    # -- the interface ------------------------------------------------------------

    def authenticate(self, user_id: str, password: str) -> auth.User:
        if not password:
            raise NotAuthenticated(AUTH_FAILED)
        try:
            dn, user = self._find_user(**{self.c.user_id_attribute: user_id})
        except NotFound:
            raise NotAuthenticated(AUTH_FAILED) from None
        self._connect(dn, password).unbind()
        if not user.enabled:
            raise NotAuthenticated(AUTH_FAILED)
        return user

    def get_user(self, user_id: str) -> auth.User:
        return self._find_user(**{self.c.user_id_attribute: user_id})[1]

    def get_user_by_name(self, name: str, domain_id: str) -> auth.User:
        if domain_id != self.c.domain_id:
            raise NotFound(f"Could not find user: {name}.")
        return self._find_user(**{self.c.user_name_attribute: name})[1]

    def _page(self, items: list[Any], query: auth.ListQuery) -> list[Any]:
        items = sorted(items, key=lambda item: item.id)
        if query.marker is not None:
            items = [item for item in items if item.id > query.marker]
        return items[: query.limit] if query.limit is not None else items

    def list_users(self, query: auth.ListQuery) -> list[auth.User]:
        if query.domain_id is not None and query.domain_id != self.c.domain_id:
            return []
        equals = {self.c.user_name_attribute: query.name} if query.name is not None else {}
        users = [u for _, entry in self._search(self.user_tree, self._user_filter(**equals), self.user_attributes)
                 if (u := self._user(entry)) is not None]
        if query.enabled is not None:
            users = [u for u in users if u.enabled == query.enabled]
        return self._page(users, query)

    def get_group(self, group_id: str) -> auth.Group:
        return self._find_group(group_id)[1]

    def list_groups(self, query: auth.ListQuery) -> list[auth.Group]:
        if query.domain_id is not None and query.domain_id != self.c.domain_id:
            return []
        equals = {self.c.group_name_attribute: query.name} if query.name is not None else {}
        groups = [g for _, entry in self._search(self.group_tree, self._group_filter(**equals),
                                                 self.group_attributes)
                  if (g := self._group(entry)) is not None]
        return self._page(groups, query)

    def list_groups_for_user(self, user_id: str) -> list[auth.Group]:
        dn, _ = self._find_user(**{self.c.user_id_attribute: user_id})
        search = self._group_filter(**{self.c.group_member_attribute: dn})
        groups = [g for _, entry in self._search(self.group_tree, search, self.group_attributes)
                  if (g := self._group(entry)) is not None]
        return sorted(groups, key=lambda g: g.id)

    def list_users_in_group(self, group_id: str) -> list[auth.User]:
        _, _, members = self._find_group(group_id)
        wanted = {m.lower() for m in members}
        users = [u for dn, entry in self._search(self.user_tree, self._user_filter(), self.user_attributes)
                 if dn.lower() in wanted and (u := self._user(entry)) is not None]
        return sorted(users, key=lambda u: u.id)

