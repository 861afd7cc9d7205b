"""What identity offers the other services: a request's token turned into who is asking, and
whether a project a caller names exists — the one module of this service another may
import (issue 17's seam).

:class:`TokenValidator` is the interface, :func:`authenticator` the API middleware's hook
over one. :func:`from_conf` gives what ``[identity_client] mode`` chooses: the identity
service of this process (``local``), or ``GET /v3/auth/tokens`` on Keystone's public API
(``rest``, Stratus or upstream Keystone) with the service's token, as keystonemiddleware
does. Validations are cached for ``[identity_client] token_cache_time`` seconds (never
beyond the token's expiry), so a revocation takes effect within that time.
"""

from __future__ import annotations

import abc
import datetime
import logging
import threading
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from stratus.context import RequestContext
from stratus.exceptions import NotAuthenticated, NotFound

LOG = logging.getLogger(__name__)
UNAUTHENTICATED = "The request you have made requires authentication."


class TokenValidator(abc.ABC):
    """Tokens to request contexts."""

    @abc.abstractmethod
    def validate(self, token: str) -> RequestContext:
        """Who ``token`` speaks for (user, scope, roles, access rules), with ``auth_token`` set.

        :raises NotAuthenticated: the token is invalid, expired or revoked.
        :raises BackendUnavailable: the identity service cannot be asked.
        """

    def close(self) -> None:  # noqa: B027 - most validators hold nothing
        """Release what the validator holds."""


class LocalTokenValidator(TokenValidator):
    """Validation by the identity service of this process (its revocation index is exact, so
    nothing is cached here)."""

    def __init__(self, identity: Any) -> None:
        self.identity = identity

    def validate(self, token: str) -> RequestContext:
        try:
            data = self.identity.tokens.validate(token)
        except NotFound:
            raise NotAuthenticated(UNAUTHENTICATED) from None
        rules = self.identity.access_rules(data.application_credential_id) if data.application_credential_id else None
        return self.identity.context_for(data, token, rules)


def _expiry(value: str | None) -> float:
    """Seconds since the epoch of an ISO 8601 ``expires_at`` (infinity when absent)."""
    if not value:
        return float("inf")
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def context_from_token(body: dict[str, Any], token: str) -> RequestContext:
    """The request context of a Keystone v3 token document (``{"token": {...}}``)."""
    data = body["token"]
    user, project, domain = data.get("user") or {}, data.get("project"), data.get("domain")
    credential = data.get("application_credential") or {}
    return RequestContext(
        user_id=user.get("id"), user_name=user.get("name"), user_domain_id=(user.get("domain") or {}).get("id"),
        project_id=project["id"] if project else None, project_name=project.get("name") if project else None,
        project_domain_id=(project.get("domain") or {}).get("id") if project else None,
        domain_id=domain["id"] if domain else None,
        system_scope="all" if (data.get("system") or {}).get("all") else None,
        roles=[r["name"] for r in data.get("roles") or []], auth_token=token,
        access_rules=credential.get("access_rules") or None)


class RestTokenValidator(TokenValidator):
    """``GET /v3/auth/tokens`` with ``X-Subject-Token``, authenticated as the service."""

    def __init__(self, conf: Any, auth: Any) -> None:
        self.auth = auth

    def validate(self, token: str) -> RequestContext:
        return self.lookup(token)[0]

    def lookup(self, token: str) -> tuple[RequestContext, float]:
        """The context of ``token`` and when the token expires (seconds since the epoch)."""
        from stratus.service_auth import UNREACHABLE, request

        adapter = self.auth.adapter("identity_client")
        try:
            path = v3_path(adapter, "/auth/tokens")
        except UNREACHABLE:  # request() below reports it
            path = "/v3/auth/tokens"
        try:
            response = request(adapter, "GET", path, "token validation", params={"nocatalog": "1"},
                               headers={"X-Subject-Token": token})
        except NotFound:
            raise NotAuthenticated(UNAUTHENTICATED) from None
        body = response.json()
        return context_from_token(body, token), _expiry(body["token"].get("expires_at"))


def v3_path(adapter: Any, path: str) -> str:
    """``path`` of the identity v3 API for ``adapter``'s endpoint, which the catalog may give
    with or without its ``/v3``."""
    endpoint = adapter.get_endpoint() or ""
    return path if endpoint.rstrip("/").endswith("/v3") else f"/v3{path}"


class CachedValidator(TokenValidator):
    """``inner``'s answers kept for ``ttl`` seconds (never past the token's expiry), at most
    ``size`` of them, least recently used dropped first; refusals are not kept."""

    def __init__(self, inner: RestTokenValidator, ttl: int, size: int) -> None:
        self.inner, self.ttl, self.size = inner, ttl, size
        self._cache: OrderedDict[str, tuple[float, RequestContext]] = OrderedDict()
        self._lock = threading.Lock()

    def validate(self, token: str) -> RequestContext:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(token)
            if hit is not None and hit[0] > now:
                self._cache.move_to_end(token)
                return _copy(hit[1])
        context, expires = self.inner.lookup(token)
        until = min(now + self.ttl, now + (expires - time.time()))
        if until > now:
            with self._lock:
                self._cache[token] = (until, context)
                self._cache.move_to_end(token)
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        return _copy(context)

    def close(self) -> None:
        self.inner.close()


def _copy(context: RequestContext) -> RequestContext:
    """A context of its own for each request (the request id and body are per request)."""
    return RequestContext(user_id=context.user_id, user_name=context.user_name,
                          user_domain_id=context.user_domain_id, project_id=context.project_id,
                          project_name=context.project_name, project_domain_id=context.project_domain_id,
                          domain_id=context.domain_id, system_scope=context.system_scope, roles=list(context.roles),
                          auth_token=context.auth_token, access_rules=context.access_rules)


def from_conf(conf: Any, *, service: Any = None, auth: Any = None) -> TokenValidator:
    """Over ``service`` (the IdentityService of this process) when there is one; else (``rest``)
    over the identity API with ``auth`` (a ServiceAuth), cached per ``[identity_client]
    token_cache_time``."""
    options = conf.identity_client
    if options.mode == "rest" and service is None:
        from stratus.service_auth import ServiceAuth

        inner = RestTokenValidator(conf, auth or ServiceAuth(conf))
        return CachedValidator(inner, options.token_cache_time, options.token_cache_size) \
            if options.token_cache_time else inner
    if service is None:
        raise ValueError("[identity_client] mode = local needs the identity service in this process")
    return LocalTokenValidator(service)


class Projects(abc.ABC):
    """Whether a project a caller names exists (Nova asks Keystone before it takes a project
    id into quotas or flavor access)."""

    @abc.abstractmethod
    def verify(self, project_id: str, context: Any) -> None:
        """Accept ``project_id`` unless identity says there is no such project; a caller
        identity will not answer for (403), or identity out of reach, is given the benefit
        of the doubt, as Nova does.

        :raises Invalid: no such project.
        """


def _not_a_project(project_id: str) -> Exception:
    from stratus.exceptions import Invalid

    return Invalid(f"Project ID {project_id} is not a valid project.")


class LocalProjects(Projects):
    """Asked of the identity service of this process."""

    def __init__(self, identity: Any) -> None:
        self.identity = identity

    def verify(self, project_id: str, context: Any) -> None:
        try:
            self.identity.store.get_project(project_id)
        except NotFound:
            raise _not_a_project(project_id) from None


class RestProjects(Projects):
    """``GET /v3/projects/{id}`` on the identity API as the caller (with the service's token)."""

    def __init__(self, auth: Any) -> None:
        self.auth = auth

    def verify(self, project_id: str, context: Any) -> None:
        from stratus.service_auth import UNREACHABLE

        adapter = self.auth.adapter("identity_client", context)
        try:
            answer = adapter.get(v3_path(adapter, f"/projects/{urllib.parse.quote(project_id, safe='')}"))
        except UNREACHABLE as exc:
            LOG.warning("could not ask identity whether project %s exists (%s)", project_id, exc)
            return
        if answer.status_code == 404:
            raise _not_a_project(project_id)


def projects_from_conf(conf: Any, *, service: Any = None, auth: Any = None) -> Projects:
    """Over ``service`` (the IdentityService of this process) when there is one, else over the
    identity API with ``auth`` (a ServiceAuth), as :func:`from_conf`."""
    if service is not None:
        return LocalProjects(service)
    if conf.identity_client.mode != "rest":
        raise ValueError("[identity_client] mode = local needs the identity service in this process")
    from stratus.service_auth import ServiceAuth

    return RestProjects(auth or ServiceAuth(conf))


class Signatures(abc.ABC):
    """S3 requests signed with EC2 credentials turned into who is asking (the object service's
    S3 endpoint: it builds the string to sign from the request, identity holds the secrets)."""

    @abc.abstractmethod
    def check(self, access: str, string_to_sign: str, signature: str) -> RequestContext:
        """The context of the owner of ``access``, scoped to the credential's project.

        :raises NotAuthenticated: unknown key or a signature that does not match.
        :raises BackendUnavailable: the identity service cannot be asked.
        """

    def close(self) -> None:  # noqa: B027 - nothing held by default
        """Release what the checker holds."""


class LocalSignatures(Signatures):
    """Checked by the identity service of this process."""

    def __init__(self, identity: Any) -> None:
        self.identity = identity

    def check(self, access: str, string_to_sign: str, signature: str) -> RequestContext:
        from stratus.identity import ec2

        token, data = ec2.issue(self.identity, access, string_to_sign, signature)
        return self.identity.context_for(data, token, None)


class RestSignatures(Signatures):
    """``POST /v3/s3tokens`` on the identity API (Stratus's or Keystone's), as Swift's s3token does."""

    def __init__(self, auth: Any) -> None:
        self.auth = auth

    def check(self, access: str, string_to_sign: str, signature: str) -> RequestContext:
        import base64

        from stratus.service_auth import UNREACHABLE, request

        adapter = self.auth.adapter("identity_client")
        try:
            path = v3_path(adapter, "/s3tokens")
        except UNREACHABLE:
            path = "/v3/s3tokens"
        body = {"credentials": {"access": access, "signature": signature,
                                "token": base64.b64encode(string_to_sign.encode()).decode()}}
        try:
            response = request(adapter, "POST", path, "S3 signature check", json=body, authenticated=False)
        except (NotFound, NotAuthenticated):
            raise NotAuthenticated("The request signature could not be verified.") from None
        return context_from_token(response.json(), response.headers.get("X-Subject-Token", ""))


def signatures_from_conf(conf: Any, *, service: Any = None, auth: Any = None) -> Signatures:
    """Over ``service`` (the IdentityService of this process) when there is one, else over the
    identity API with ``auth``, as :func:`from_conf`."""
    if service is not None:
        return LocalSignatures(service)
    if conf.identity_client.mode != "rest":
        raise ValueError("[identity_client] mode = local needs the identity service in this process")
    from stratus.service_auth import ServiceAuth

    return RestSignatures(auth or ServiceAuth(conf))


def authenticator(validator: TokenValidator) -> Callable[[Any], RequestContext | None]:
    """The API middleware's authenticator: ``X-Auth-Token`` to a context, None without one."""

    def authenticate(req: Any) -> RequestContext | None:
        token = req.get_header("X-Auth-Token")
        return validator.validate(token) if token else None

    return authenticate
