"""What compute's proxy APIs share: Nova kept ``os-security-groups``, ``os-floating-ips``,
``os-networks``, ``/images`` and friends as proxies to Neutron and Glance until 2.35, and
answers 404 for them from 2.36; here they answer from the network and image services'
public APIs (:class:`~stratus.api.internal.ServiceCaller`), as the caller."""

from __future__ import annotations

from typing import Any

import falcon

from stratus.api.internal import Answer, ServiceCaller
from stratus.compute.api.microversions import at_least
from stratus.exceptions import BackendUnavailable, Conflict, Forbidden, Invalid, NotFound, StratusError

#: the last microversion with the proxy APIs
MAX_PROXY = "2.35"
PREFIX = "/compute"

_BY_STATUS: dict[int, type[StratusError]] = {400: Invalid, 403: Forbidden, 404: NotFound, 409: Conflict}


def require(req: falcon.Request) -> None:
    """:raises NotFound: the request asked for 2.36 or later, where the proxy APIs are gone."""
    if at_least(req, "2.36"):
        raise NotFound("The resource could not be found (proxy APIs were removed in microversion 2.36).")


def caller(deps: Any) -> ServiceCaller:
    return ServiceCaller(deps.apps, PREFIX, deps.service_auth)


def check(answer: Answer, statuses: dict[int, type[StratusError]] | None = None) -> Answer:
    """``answer`` if it succeeded; otherwise the error Nova gives for it (``statuses`` maps
    the other service's status to Nova's error where they differ)."""
    if answer.ok:
        return answer
    error = {**_BY_STATUS, **(statuses or {})}.get(answer.status)
    if error is None:
        raise BackendUnavailable(f"The service answered {answer.status}: {answer.message}")
    raise error(answer.message)
