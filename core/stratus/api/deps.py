"""Building :class:`~stratus.api.app.ApiDeps` for a process: what every entry point shares.

``stratus up``, ``stratus api`` and :mod:`stratus.wsgi` all serve the same apps with the
same collaborators, built here once per process (per gunicorn worker).
"""

from __future__ import annotations

from typing import Any

from stratus.api.app import ApiDeps


def build_deps(conf: Any, plugins: Any) -> ApiDeps:
    """Create the identity service (tokens for every API) and wire its authenticator.

    :raises DriverError: the configured auth backend does not load.
    :raises ConfigError: the token keys are missing.
    """
    from stratus.identity.service import IdentityService

    identity = IdentityService(conf)
    return ApiDeps(conf, plugins, authenticator=identity.authenticate_request, services={"identity": identity})
