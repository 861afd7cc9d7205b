"""Calling another service's public OpenStack API over HTTP, as OpenStack services do.

:class:`ServiceAuth` is a keystoneauth session authenticated as ``[service_credentials]``;
:meth:`ServiceAuth.adapter` gives an adapter for one service (endpoint from the catalog or
the client group's ``endpoint_override``). With a request context that carries the user's
token, requests go as the user (``X-Auth-Token``) with the service's token beside it
(``X-Service-Token``), so the other service applies the user's rights; without one, as the
service user. :func:`check` turns an error answer into the matching Stratus error.
"""

from __future__ import annotations

from typing import Any

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import plugin as ks_plugin
from keystoneauth1.service_token import ServiceTokenAuthWrapper

from stratus.conf.clients import CLIENTS, CREDENTIALS
from stratus.exceptions import (
    BackendUnavailable,
    ConfigError,
    Conflict,
    Forbidden,
    Invalid,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    StratusError,
)

_BY_STATUS: dict[int, type[StratusError]] = {400: Invalid, 401: NotAuthenticated, 403: Forbidden, 404: NotFound,
                                              409: Conflict, 413: PayloadTooLarge}

#: what a call that could not reach the other service raises (keystoneauth's transport errors)
UNREACHABLE = (ks_exc.ConnectFailure, ks_exc.ConnectTimeout, ks_exc.EndpointNotFound, ks_exc.DiscoveryFailure,
               ks_exc.Unauthorized, ks_exc.EmptyCatalog)


class _UserToken(ks_plugin.BaseAuthPlugin):
    """The caller's token for ``X-Auth-Token``; endpoints from the service's own catalog."""

    def __init__(self, token: str, service: ks_plugin.BaseAuthPlugin) -> None:
        super().__init__()
        self.token, self.service = token, service

    def get_token(self, session: Any) -> str | None:
        return self.token

    def get_endpoint(self, session: Any, **kwargs: Any) -> str | None:
        return self.service.get_endpoint(session, **kwargs)


class ServiceAuth:
    """The session the services of this process call other services with.

    :raises ConfigError: ``[service_credentials]`` names no usable auth plugin.
    """

    def __init__(self, conf: Any) -> None:
        self.conf = conf
        try:
            auth = ks_loading.load_auth_from_conf_options(conf, CREDENTIALS)
        except ks_exc.MissingRequiredOptions as exc:
            names = ", ".join(o.dest for o in exc.options)
            raise ConfigError(f"[{CREDENTIALS}] lacks {names} (needed to call other services over REST)") from None
        except ks_exc.NoMatchingPlugin as exc:
            raise ConfigError(f"[{CREDENTIALS}] auth_type: {exc}") from None
        if auth is None:
            raise ConfigError(f"[{CREDENTIALS}] auth_type is not set: a client in rest mode needs the "
                              "credentials of a service user (auth_type = password, auth_url, username, ...)")
        self.auth = auth
        self.session = ks_loading.load_session_from_conf_options(conf, CREDENTIALS, auth=auth)

    def adapter(self, group: str, context: Any = None) -> ks_adapter.Adapter:
        """An adapter for the service of client ``group`` (``"image_client"``), as the user of
        ``context`` when it carries a token, else as the service."""
        options = self.conf[group]
        auth: ks_plugin.BaseAuthPlugin | None = None
        token = getattr(context, "auth_token", None)
        if token:
            auth = ServiceTokenAuthWrapper(user_auth=_UserToken(token, self.auth), service_auth=self.auth)
        headers = {}
        request_id = getattr(context, "global_request_id", None) or getattr(context, "request_id", None)
        if request_id:
            headers["X-OpenStack-Request-ID"] = request_id
        return ks_adapter.Adapter(
            self.session, auth=auth, service_type=CLIENTS[group], interface=options.valid_interfaces or "public",
            region_name=options.region_name, endpoint_override=options.endpoint_override,
            connect_retries=options.connect_retries, status_code_retries=options.status_code_retries,
            raise_exc=False, additional_headers=headers, logger=None)

    def close(self) -> None:
        self.session.session.close()


def error_message(body: Any, status: int) -> str:
    """The message of an OpenStack-style error body (parsed JSON), whatever the service's style."""
    if isinstance(body, dict) and len(body) == 1:
        (inner,) = body.values()
        if isinstance(inner, dict) and "message" in inner:
            return str(inner["message"])
    if isinstance(body, dict) and "message" in body:
        return str(body["message"])
    return f"HTTP {status}"


def message(response: Any) -> str:
    """The error message of a response, JSON or not."""
    try:
        body = response.json()
    except ValueError:
        return (response.text or "").strip()[:300] or f"HTTP {response.status_code}"
    return error_message(body, response.status_code)


def check(response: Any, what: str) -> Any:
    """``response`` if it succeeded; else the Stratus error for its status, naming ``what``."""
    if response.status_code < 400:
        return response
    error = _BY_STATUS.get(response.status_code, BackendUnavailable)
    raise error(f"{what}: {message(response)}" if error is BackendUnavailable else message(response))


def request(adapter: ks_adapter.Adapter, method: str, url: str, what: str, **kwargs: Any) -> Any:
    """``method url`` through ``adapter``, checked with :func:`check`.

    :raises BackendUnavailable: the service cannot be reached (or the service user cannot log in).
    """
    try:
        response = adapter.request(url, method, **kwargs)
    except UNREACHABLE as exc:
        raise BackendUnavailable(f"{what}: the {adapter.service_type} service cannot be reached ({exc})") from None
    return check(response, what)
