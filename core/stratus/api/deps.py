"""Building :class:`~stratus.api.app.ApiDeps` for a process: what every entry point shares.

``stratus up``, ``stratus api`` and :mod:`stratus.wsgi` all serve the same apps with the
same collaborators, built here once per process (per gunicorn worker).
"""

from __future__ import annotations

from typing import Any

from stratus.api.app import ApiDeps
from stratus.rpc import transport_from_conf


def build_deps(conf: Any, plugins: Any) -> ApiDeps:
    """Create the identity service (tokens for every API) and wire its authenticator.

    :raises DriverError: the configured auth backend does not load.
    :raises ConfigError: the token keys are missing.
    """
    from stratus.compute.service import ComputeService
    from stratus.identity.service import IdentityService
    from stratus.image.service import ImageService
    from stratus.network.service import NetworkService

    transport = transport_from_conf(conf)
    identity = IdentityService(conf)
    identity.listen_for_revocations(transport)
    image = ImageService(conf)
    network = NetworkService(conf)
    network.serve_agents(transport)
    from stratus.image.client import LocalImageClient
    from stratus.network.client import LocalNetworkClient

    compute = ComputeService(conf, transport=transport, network=LocalNetworkClient(network),
                             images=LocalImageClient(image))
    network.on_port_status(compute.port_events)
    network.on_network_changed(compute.network_changed)
    return ApiDeps(conf, plugins, authenticator=identity.authenticate_request,
                   services={"identity": identity, "image": image, "network": network, "compute": compute})


def close_deps(deps: ApiDeps) -> None:
    """Release what :func:`build_deps` started (listeners, connections)."""
    for service in deps.services.values():
        service.close()
