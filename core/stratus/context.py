"""The request context: who is asking, on whose behalf, and under which request id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from typing import Any


def new_request_id() -> str:
    return f"req-{uuid.uuid4()}"


@dataclass(slots=True)
class RequestContext:
    """Filled by the API's auth middleware; carried through RPC to every service.

    An anonymous context (no ``user_id``) is what unauthenticated requests get; resources
    that need a user refuse it with 401.
    """

    request_id: str = field(default_factory=new_request_id)
    user_id: str | None = None
    user_name: str | None = None
    user_domain_id: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    project_domain_id: str | None = None
    domain_id: str | None = None
    system_scope: str | None = None
    roles: list[str] = field(default_factory=list)
    auth_token: str | None = field(default=None, repr=False)
    global_request_id: str | None = None
    #: the requests an application credential's token is limited to (service, method, path
    #: pattern); None: not limited
    access_rules: list[dict[str, str]] | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for RPC messages; the token is left out."""
        # by hand, not dataclasses.asdict: its deep copy was a visible share of every RPC cast
        data = {name: getattr(self, name) for name in _CARRIED}
        data["roles"] = list(self.roles)
        if self.access_rules is not None:
            data["access_rules"] = [dict(rule) for rule in self.access_rules]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequestContext:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def to_policy_values(self) -> dict[str, Any]:
        """The credentials dict oslo.policy rules are checked against."""
        return {
            "user_id": self.user_id,
            "user_domain_id": self.user_domain_id,
            "project_id": self.project_id,
            "project_domain_id": self.project_domain_id,
            "domain_id": self.domain_id,
            "system_scope": self.system_scope,
            "roles": list(self.roles),
        }


#: what :meth:`RequestContext.to_dict` carries: every field but the token
_CARRIED = tuple(f.name for f in fields(RequestContext) if f.name != "auth_token")
