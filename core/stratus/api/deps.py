"""Building :class:`~stratus.api.app.ApiDeps` for a process: what every entry point shares.

``stratus up``, ``stratus api`` and :mod:`stratus.wsgi` all serve the same apps with the
same collaborators, built here once per process (per gunicorn worker). ``[api] services``
says which services this process serves; each other service it needs is reached through
its client, in-process or over REST as its ``[<service>_client] mode`` says.
"""

from __future__ import annotations

from typing import Any

from stratus.api.app import ApiDeps
from stratus.conf.clients import CLIENTS
from stratus.rpc import transport_from_conf


def build_deps(conf: Any, plugins: Any) -> ApiDeps:
    """Create the services this process serves and the clients they use.

    :raises DriverError: a configured driver (auth backend, network plugin) does not load.
    :raises ConfigError: the token keys are missing, or a client in rest mode has no
        ``[service_credentials]``.
    """
    from stratus.compute import client as compute_client
    from stratus.identity import client as identity_client
    from stratus.image import client as image_client
    from stratus.network import client as network_client
    from stratus.volume import client as volume_client

    served = set(conf.api.services)
    transport = transport_from_conf(conf)
    auth = None
    if any(conf[group].mode == "rest" for group in CLIENTS):
        from stratus.service_auth import ServiceAuth

        auth = ServiceAuth(conf)
    services: dict[str, Any] = {}
    owned: list[Any] = []  # services run here for a client only (not served): closed with the rest

    def local(name: str, factory: Any) -> Any:
        service = factory(conf)
        (services.__setitem__(name, service) if name in served else owned.append(service))
        return service

    identity = None
    if "identity" in served or conf.identity_client.mode == "local":  # a local one: validation by it
        from stratus.identity.service import IdentityService

        identity = local("identity", IdentityService)
        identity.listen_for_revocations(transport)
    validator = identity_client.from_conf(conf, service=identity, auth=auth)
    image = network = None
    if "image" in served:
        from stratus.image.service import ImageService

        image = local("image", ImageService)
    if "network" in served:
        from stratus.network.service import NetworkService

        network = local("network", NetworkService)
        network.serve_agents(transport)
    volume = None
    if "volume" in served:
        from stratus.volume.service import VolumeService

        volume = local("volume", lambda c: VolumeService(c, transport, images=image_client.from_conf(
            c, service=image, auth=auth)))
    if "object_store" in served:
        from stratus.object_store.service import ObjectService

        local("object_store", ObjectService).start_sweeper()
        services["s3_signatures"] = identity_client.signatures_from_conf(conf, service=identity, auth=auth)
    if "compute" in served:
        from stratus.compute.service import ComputeService

        local("compute", lambda c: ComputeService(
            c, transport=transport, network=network_client.from_conf(c, transport, service=network, auth=auth),
            images=image_client.from_conf(c, service=image, auth=auth),
            projects=identity_client.projects_from_conf(c, service=identity, auth=auth),
            volumes=volume_client.from_conf(c, service=volume, auth=auth)))
    if network is not None:
        network.notify_compute(compute_client.from_conf(conf, service=services.get("compute"), auth=auth))
    deps = ApiDeps(conf, plugins, authenticator=identity_client.authenticator(validator), services=services,
                   service_auth=auth)
    deps.closers.extend([validator.close, *(s.close for s in owned)])
    return deps


def close_deps(deps: ApiDeps) -> None:
    """Release what :func:`build_deps` started (listeners, connections)."""
    for service in deps.services.values():
        service.close()
    for close in deps.closers:
        close()
    if deps.service_auth is not None:
        deps.service_auth.close()
