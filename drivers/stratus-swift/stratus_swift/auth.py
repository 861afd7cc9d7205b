"""keystoneauth plugins for the two non-Keystone ways of reaching Swift: v1 (tempauth-style)
credentials, and a storage URL with a token obtained elsewhere."""

from __future__ import annotations

import threading
from typing import Any

from keystoneauth1 import plugin

from stratus.exceptions import BackendUnavailable, NotAuthenticated


class V1Auth(plugin.BaseAuthPlugin):
    """``GET auth_url`` with ``X-Auth-User``/``X-Auth-Key``; answers ``X-Storage-Url`` and a token.

    The token is fetched again when Swift answers 401 (keystoneauth calls :meth:`invalidate`).
    """

    def __init__(self, auth_url: str, user: str, key: str) -> None:
        super().__init__()
        self.auth_url, self.user, self.key = auth_url, user, key
        self._token: str | None = None
        self._storage_url: str | None = None
        self._lock = threading.Lock()

    def _authenticate(self, session: Any) -> None:
        with self._lock:
            if self._token is not None:
                return
            try:
                response = session.get(self.auth_url, headers={"X-Auth-User": self.user, "X-Auth-Key": self.key},
                                       authenticated=False, raise_exc=False)
            except Exception as exc:  # keystoneauth's ConnectFailure and friends
                raise BackendUnavailable(f"Swift auth at {self.auth_url} unreachable: {exc}") from None
            if response.status_code in (401, 403):
                raise NotAuthenticated(f"Swift auth at {self.auth_url} refused user {self.user}")
            if response.status_code >= 400 or "X-Auth-Token" not in response.headers:
                raise BackendUnavailable(f"Swift auth at {self.auth_url} answered {response.status_code}")
            self._token = response.headers["X-Auth-Token"]
            self._storage_url = response.headers["X-Storage-Url"]

    def get_token(self, session: Any) -> str | None:
        self._authenticate(session)
        return self._token

    def get_endpoint(self, session: Any, **kwargs: Any) -> str | None:
        self._authenticate(session)
        return self._storage_url

    def invalidate(self) -> bool:
        self._token = None
        return True


class PreauthenticatedUrl(plugin.BaseAuthPlugin):
    """A storage URL and (optionally) a token given by the operator; nothing to refresh."""

    def __init__(self, url: str, token: str | None) -> None:
        super().__init__()
        self.url, self.token = url, token

    def get_token(self, session: Any) -> str | None:
        return self.token

    def get_headers(self, session: Any, **kwargs: Any) -> dict[str, str]:
        return {"X-Auth-Token": self.token} if self.token else {}

    def get_endpoint(self, session: Any, **kwargs: Any) -> str | None:
        return self.url
