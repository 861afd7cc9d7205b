"""How identity entities and tokens look in API responses (Keystone's shapes)."""

from __future__ import annotations

from typing import Any

from stratus.identity import models
from stratus.identity.service import IdentityService
from stratus.identity.tokens import TokenData, isotime


def domain_ref(identity: IdentityService, domain_id: str) -> dict[str, str]:
    return {"id": domain_id, "name": identity.store.get_domain(domain_id).name}


def project_view(project: models.Project, base: str) -> dict[str, Any]:
    return {
        **(project.extra or {}),
        "id": project.id, "name": project.name, "domain_id": project.domain_id,
        "parent_id": project.parent_id or project.domain_id, "enabled": project.enabled,
        "description": project.description or "", "is_domain": False, "tags": list(project.tags or []),
        "options": {}, "links": {"self": f"{base}/v3/projects/{project.id}"},
    }


def domain_view(domain: models.Domain, base: str) -> dict[str, Any]:
    return {
        **(domain.extra or {}),
        "id": domain.id, "name": domain.name, "enabled": domain.enabled,
        "description": domain.description or "", "tags": [], "options": {},
        "links": {"self": f"{base}/v3/domains/{domain.id}"},
    }


def token_body(identity: IdentityService, data: TokenData, include_catalog: bool = True) -> dict[str, Any]:
    """The ``{"token": ...}`` document of ``POST`` and ``GET /v3/auth/tokens`` (its parts as
    :attr:`IdentityService.documents` keeps them)."""
    cached = identity.documents.get
    user = cached(("user", data.user_id), lambda: _user_ref(identity, data.user_id))
    token: dict[str, Any] = {
        "methods": list(data.methods),
        "user": {**user, "password_expires_at": None},
        "audit_ids": list(data.audit_ids),
        "expires_at": isotime(data.expires_at_us),
        "issued_at": isotime(data.issued_at_us),
    }
    if data.project_id:
        token["project"] = cached(("project", data.project_id), lambda: _project_ref(identity, data.project_id))
        token["is_domain"] = False
    elif data.domain_id:
        token["domain"] = cached(("domain", data.domain_id), lambda: domain_ref(identity, data.domain_id))
    elif data.system:
        token["system"] = {"all": True}
    if data.scoped:
        token["roles"] = [{"id": role_id, "name": name} for role_id, name in data.roles]
        if include_catalog:
            token["catalog"] = cached(("catalog", data.project_id), lambda: identity.store.catalog(data.project_id))
    if data.application_credential_id:
        name, restricted = cached(("credential", data.application_credential_id),
                                  lambda: _credential(identity, data.application_credential_id))
        token["application_credential"] = {"id": data.application_credential_id, "name": name,
                                           "restricted": restricted}
        rules = identity.access_rules(data.application_credential_id)
        if rules:
            token["application_credential"]["access_rules"] = rules
    return {"token": token}


def _user_ref(identity: IdentityService, user_id: str) -> dict[str, Any]:
    user = identity.backend.get_user(user_id)
    return {"id": user.id, "name": user.name, "domain": domain_ref(identity, user.domain_id)}


def _project_ref(identity: IdentityService, project_id: str) -> dict[str, Any]:
    project = identity.store.get_project(project_id)
    return {"id": project.id, "name": project.name, "domain": domain_ref(identity, project.domain_id)}


def _credential(identity: IdentityService, credential_id: str) -> tuple[str | None, bool]:
    from stratus.identity import models

    with identity.db.reading() as session:
        credential = session.get(models.ApplicationCredential, credential_id)
        return (credential.name, not credential.unrestricted) if credential else (None, True)


def user_view(user: Any, base: str) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": user.id, "name": user.name, "domain_id": user.domain_id, "enabled": user.enabled,
        "password_expires_at": None, "options": {}, "links": {"self": f"{base}/v3/users/{user.id}"},
    }
    for field in ("email", "description", "default_project_id"):
        if getattr(user, field):
            view[field] = getattr(user, field)
    view.update({k: v for k, v in (user.extra or {}).items() if k not in view})
    return view


def group_view(group: Any, base: str) -> dict[str, Any]:
    return {**dict(getattr(group, "extra", {}) or {}), "id": group.id, "name": group.name, "domain_id": group.domain_id,
            "description": group.description or "", "links": {"self": f"{base}/v3/groups/{group.id}"}}


def role_view(role: models.Role, base: str) -> dict[str, Any]:
    return {"id": role.id, "name": role.name,
            "domain_id": None if role.domain_id == models.GLOBAL else role.domain_id,
            "description": role.description, "options": {}, "links": {"self": f"{base}/v3/roles/{role.id}"}}
