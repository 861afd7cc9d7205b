"""Calling another service's public API for a request, with the caller's token.

Compute's proxy APIs (``os-security-groups``, ``/images``, ``os-floating-ips``, ...) answer
from the network and image services as Nova's do from Neutron and Glance: through those
services' public APIs, as the user who asked, so the other service's policy, quotas and
validation apply unchanged. In one process the request goes straight into the other
service's WSGI app (no socket, no second token check beyond the app's own); the calls are
plain OpenStack API requests, so a REST implementation of :class:`ServiceCaller` can send
them over HTTP to a separate deployment.
"""

from __future__ import annotations

import io
import json
import sys
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import falcon

from stratus.api.middleware import INTERNAL
from stratus.conf.clients import CLIENTS
from stratus.exceptions import BackendUnavailable


@dataclass(frozen=True)
class Answer:
    """What the other service answered: ``status``, the parsed JSON ``body`` (None if empty)."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        """The error message of an OpenStack-style error body, whatever the service's style."""
        from stratus.service_auth import error_message

        return error_message(self.body, self.status)


class ServiceCaller:
    """Sends requests to the API apps of this process by catalog type (``apps`` is read at
    call time: the apps are built after the resources that use this), for the service
    mounted at ``prefix`` (``"/compute"``); to a service not served here, over REST with
    ``auth`` (a :class:`~stratus.service_auth.ServiceAuth`), as the caller."""

    def __init__(self, apps: Mapping[str, Callable[..., Any]], prefix: str, auth: Any = None) -> None:
        self.apps, self.prefix, self.auth = apps, prefix, auth

    def call(self, req: falcon.Request, service_type: str, method: str, path: str, *,
             query: Mapping[str, Any] | None = None, body: Any = None,
             content_type: str = "application/json") -> Answer:
        """``method path`` on the service of ``service_type`` as the caller of ``req`` (``body``
        sent as JSON with ``content_type``).

        :raises BackendUnavailable: no such service is served here.
        """
        app = self.apps.get(service_type)
        if app is None and self.auth is not None and f"{service_type}_client" in CLIENTS:
            return self._remote(req, service_type, method, path, query, body, content_type)
        if app is None:
            raise BackendUnavailable(f"The {service_type} service is not available.")
        data = json.dumps(body).encode() if body is not None else b""
        outer = req.env
        script = outer.get("SCRIPT_NAME", "")
        root = script[: -len(self.prefix)] if script.endswith(self.prefix) else script
        environ = {
            # WSGI strings are bytes as latin-1: a path holding what a client percent-encoded
            # (any UTF-8) goes as its UTF-8 bytes, as a server would pass it
            "REQUEST_METHOD": method, "SCRIPT_NAME": root + app.spec.prefix,
            "PATH_INFO": path.encode("utf-8", "surrogateescape").decode("latin-1"),
            "QUERY_STRING": urllib.parse.urlencode(query or {}, doseq=True),
            "SERVER_NAME": outer.get("SERVER_NAME", "localhost"), "SERVER_PORT": outer.get("SERVER_PORT", "80"),
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0),
            "wsgi.url_scheme": outer.get("wsgi.url_scheme", "http"), "wsgi.input": io.BytesIO(data),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False, "CONTENT_LENGTH": str(len(data)), "HTTP_ACCEPT": "application/json",
            INTERNAL: True,
        }
        if data:
            environ["CONTENT_TYPE"] = content_type
        for name in ("HTTP_HOST", "HTTP_X_AUTH_TOKEN", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                     "HTTP_FORWARDED"):
            if name in outer:
                environ[name] = outer[name]
        request_id = getattr(req.context, "global_request_id", None) or getattr(req.context, "request_id", None)
        if request_id:
            environ["HTTP_X_OPENSTACK_REQUEST_ID"] = request_id
        status: list[str] = []
        headers: dict[str, str] = {}

        def start_response(line: str, pairs: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            status.append(line)
            headers.update((k.lower(), v) for k, v in pairs)
            return lambda _: None

        chunks = app(environ, start_response)
        try:
            raw = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        code = int(status[0].split(" ", 1)[0])
        parsed = json.loads(raw) if raw and headers.get("content-type", "").startswith("application/json") else None
        return Answer(code, parsed, headers)

    def _remote(self, req: falcon.Request, service_type: str, method: str, path: str,
                query: Mapping[str, Any] | None, body: Any, content_type: str) -> Answer:
        from stratus.service_auth import UNREACHABLE

        adapter = self.auth.adapter(f"{service_type}_client", req.context.stratus)
        kwargs: dict[str, Any] = {"params": dict(query or {}), "headers": {"Accept": "application/json"}}
        if body is not None:
            kwargs["data"] = json.dumps(body).encode()
            kwargs["headers"]["Content-Type"] = content_type
        try:
            response = adapter.request(path, method, **kwargs)
        except UNREACHABLE as exc:
            raise BackendUnavailable(f"The {service_type} service cannot be reached ({exc}).") from None
        parsed = response.json() if response.content and response.headers.get(
            "Content-Type", "").startswith("application/json") else None
        return Answer(response.status_code, parsed, {k.lower(): v for k, v in response.headers.items()})
