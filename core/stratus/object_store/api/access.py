"""Who may do what to an account, as Swift's keystoneauth middleware decides it.

- A user holding one of ``[object_store] operator_roles`` in the account's project owns the
  account: everything, including setting ACLs. ``reseller_admin_role`` owns every account.
- ``reader_roles`` in the project read (list, GET, HEAD) but change nothing.
- A container's read ACL (``X-Container-Read``) and write ACL (``X-Container-Write``) grant
  others access to it and its objects: ``project:user`` (ids or names, ``*`` for any),
  a bare role name, and, for reading only, ``.r:<referrer>`` (``*``, a host, ``.domain``,
  ``-`` to deny) which also lets anonymous requests in, plus ``.rlistings`` for listings.
- Only owners change ACLs, versioning and container quotas; only reseller admins set
  account quotas. Refusals are 401 without a token, 403 with one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from stratus.exceptions import Forbidden, Invalid, NotAuthenticated


@dataclass(frozen=True, slots=True)
class Acl:
    referrers: tuple[str, ...]
    listings: bool
    grants: tuple[str, ...]


def parse_acl(value: str, *, read: bool) -> Acl:
    """Parse (and check) an ACL header's value.

    :raises Invalid: a referrer element in a write ACL, or an unknown dot element.
    """
    referrers: list[str] = []
    grants: list[str] = []
    listings = False
    for element in (part.strip() for part in value.split(",")):
        if not element:
            continue
        if element.startswith(".r:") or element.startswith(".ref") or element.startswith(".referrer:"):
            if not read:
                raise Invalid(f"Referrers are not allowed in write ACL: {element!r}")
            host = element.split(":", 1)[1].strip() if ":" in element else ""
            if not host or host == "-":
                raise Invalid(f"No host/domain value after referrer designation in ACL: {element!r}")
            referrers.append(host)
        elif element in (".rlistings", ".rlisting"):
            if not read:
                raise Invalid("Listings are not allowed in write ACL: '.rlistings'")
            listings = True
        elif element.startswith("."):
            raise Invalid(f"Unknown designator {element!r} in ACL")
        else:
            grants.append(element)
    return Acl(tuple(referrers), listings, tuple(grants))


def normalize_acl(value: str, *, read: bool) -> str:
    """The ACL as stored and shown: its elements, checked, joined by commas."""
    parse_acl(value, read=read)
    return ",".join(part.strip() for part in value.split(",") if part.strip())


def referrer_allowed(referrer: str | None, allowed: Sequence[str]) -> bool:
    """Swift's referrer matching: the last matching element wins; ``-`` denies."""
    host = urlparse(referrer).hostname or "" if referrer else ""
    verdict = False
    for element in allowed:
        deny = element.startswith("-")
        pattern = element[1:] if deny else element
        if pattern == "*" or (pattern.startswith(".") and (host.endswith(pattern) or host == pattern[1:])) \
                or host == pattern:
            verdict = not deny
    return verdict


class Requester:
    """The request's identity as the object service sees it."""

    def __init__(self, conf: Any, context: Any, referrer: str | None) -> None:
        self.context = context
        self.referrer = referrer
        self.authenticated = bool(getattr(context, "is_authenticated", False))
        roles = {role.lower() for role in (context.roles or [])} if self.authenticated else set()
        options = conf.object_store
        self.roles = roles
        self.reseller = options.reseller_admin_role.lower() in roles
        self._operator = bool(roles & {r.lower() for r in options.operator_roles})
        self._reader = bool(roles & {r.lower() for r in options.reader_roles})

    def _in(self, account: str) -> bool:
        return self.authenticated and account == f"AUTH_{self.context.project_id}"

    def owns(self, account: str) -> bool:
        return self.reseller or (self._in(account) and self._operator)

    def reads(self, account: str) -> bool:
        return self.owns(account) or (self._in(account) and self._reader)

    def granted(self, grants: Sequence[str]) -> bool:
        if not self.authenticated:
            return False
        context = self.context
        projects = {"*", context.project_id, context.project_name} - {None}
        users = {"*", context.user_id, context.user_name} - {None}
        for grant in grants:
            if ":" in grant:
                project, _, user = grant.partition(":")
                if project in projects and user in users:
                    return True
            elif grant.lower() in self.roles:
                return True
        return False

    def refuse(self, what: str) -> Exception:
        if not self.authenticated:
            return NotAuthenticated(f"Authentication required to {what}.")
        return Forbidden(f"Access was denied to {what}.")

    # -- decisions --------------------------------------------------------------------

    def check_account(self, account: str, *, write: bool) -> None:
        if not (self.owns(account) if write else self.reads(account)):
            raise self.refuse(f"{'change' if write else 'read'} account {account}")

    def check_container_read(self, account: str, read_acl: str, *, listing: bool) -> None:
        """Listing the container (``listing``) or reading its objects."""
        if self.reads(account):
            return
        acl = parse_acl(read_acl, read=True)
        if self.granted(acl.grants):
            return
        if (acl.listings or not listing) and acl.referrers and referrer_allowed(self.referrer, acl.referrers):
            return
        raise self.refuse(f"read container{'' if listing else ' objects'} in account {account}")

    def check_container_write(self, account: str, write_acl: str) -> None:
        """Writing objects into the container."""
        if self.owns(account) or self.granted(parse_acl(write_acl, read=False).grants):
            return
        raise self.refuse(f"write to a container in account {account}")

    def check_owner(self, account: str, what: str) -> None:
        if not self.owns(account):
            raise self.refuse(what)
