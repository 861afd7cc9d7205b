"""Reaching a Swift-compatible object store: the connection options every part of the package
shares (the image store, the backup target), the keystoneauth session they build, and
Swift's answers turned into Stratus's exceptions."""

from __future__ import annotations

from typing import Any

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from oslo_config import cfg

from stratus.exceptions import BackendUnavailable, Invalid, NotFound, PayloadTooLarge
from stratus_swift.auth import PreauthenticatedUrl, V1Auth

CONNECTION_OPTS = [
    cfg.StrOpt("auth_version", default="3", choices=["3", "1", "preauth"],
               help="3: Keystone v3 credentials and the catalog's object-store endpoint; 1: v1 (tempauth-style) "
               "user and key; preauth: preauth_url (and preauth_token) as given."),
    cfg.URIOpt("auth_address", help="Keystone v3 URL (auth_version 3) or v1 auth URL (auth_version 1)."),
    cfg.StrOpt("user", help="User name (v1: account:user)."),
    cfg.StrOpt("key", secret=True, help="Password (v3) or key (v1)."),
    cfg.StrOpt("project_name", help="Project to scope to (auth_version 3)."),
    cfg.StrOpt("user_domain_name", default="Default", help="Domain of the user (auth_version 3)."),
    cfg.StrOpt("project_domain_name", default="Default", help="Domain of the project (auth_version 3)."),
    cfg.StrOpt("region_name", help="Catalog region of the object-store endpoint (auth_version 3)."),
    cfg.StrOpt("endpoint_type", default="public", choices=["public", "internal", "admin"],
               help="Catalog interface of the object-store endpoint (auth_version 3)."),
    cfg.URIOpt("preauth_url",
               help="Storage URL, e.g. https://swift.example.org/v1/AUTH_images (auth_version preauth)."),
    cfg.StrOpt("preauth_token", secret=True, help="Token sent with every request (auth_version preauth; optional)."),
    cfg.StrOpt("ca_file", help="CA certificates (PEM) for https; the system's when unset."),
    cfg.BoolOpt("insecure", default=False, help="Do not verify https certificates (testing only)."),
    cfg.FloatOpt("timeout", default=60.0, min=1, help="Seconds to wait for Swift on each request."),
]


class SwiftConnection:
    """Requests to one account of a Swift-compatible store, configured by the options of
    :data:`CONNECTION_OPTS` read from ``options`` (the group named ``group``)."""

    def __init__(self, options: Any, group: str) -> None:
        self.options, self.group = options, group
        self.session = ks_session.Session(auth=self._auth(), verify=options.ca_file or not options.insecure,
                                          timeout=options.timeout)
        self.endpoint_filter = {"service_type": "object-store", "interface": options.endpoint_type}
        if options.region_name:
            self.endpoint_filter["region_name"] = options.region_name

    def _auth(self) -> Any:
        o, group = self.options, self.group
        if o.auth_version == "preauth":
            if not o.preauth_url:
                raise Invalid(f"[{group}] auth_version = preauth needs preauth_url")
            return PreauthenticatedUrl(o.preauth_url.rstrip("/"), o.preauth_token)
        missing = [name for name in ("auth_address", "user", "key") if not o[name]]
        if o.auth_version == "3" and not o.project_name:
            missing.append("project_name")
        if missing:
            raise Invalid(f"[{group}] auth_version = {o.auth_version} needs {', '.join(missing)}")
        if o.auth_version == "1":
            return V1Auth(o.auth_address, o.user, o.key)
        return v3.Password(auth_url=o.auth_address, username=o.user, password=o.key, project_name=o.project_name,
                           user_domain_name=o.user_domain_name, project_domain_name=o.project_domain_name)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """``method path`` below the account URL; the response whatever its status.

        :raises BackendUnavailable: no endpoint, Swift unreachable, or credentials refused.
        """
        try:
            return self.session.request(path, method, endpoint_filter=self.endpoint_filter, raise_exc=False,
                                        **kwargs)
        except ks_exceptions.EndpointNotFound:
            raise BackendUnavailable(f"[{self.group}]: no object-store endpoint in the catalog") from None
        except (ks_exceptions.ConnectFailure, ks_exceptions.ConnectTimeout, ks_exceptions.UnknownConnectionError,
                ks_exceptions.RetriableConnectionFailure) as exc:
            raise BackendUnavailable(f"[{self.group}]: Swift unreachable: {exc}") from None
        except ks_exceptions.Unauthorized as exc:
            raise BackendUnavailable(f"[{self.group}]: Swift credentials refused: {exc}") from None

    @staticmethod
    def check(response: Any, what: str) -> Any:
        """``response`` if it succeeded.

        :raises NotFound: 404. :raises PayloadTooLarge: 413 (quota, size limit) or 507 (full).
        :raises BackendUnavailable: any other error.
        """
        if response.status_code == 404:
            raise NotFound(f"{what} not found")
        if response.status_code == 413:
            raise PayloadTooLarge(f"{what}: Swift refused the size (quota or object size limit)")
        if response.status_code == 507:
            raise PayloadTooLarge(f"{what}: Swift is out of space")
        if response.status_code >= 400:
            raise BackendUnavailable(f"{what}: Swift answered {response.status_code} {response.text[:200]}")
        return response
