"""The compute service's processes: ``stratus scheduler`` (placement and claims),
``stratus conductor`` (orchestration) and ``stratus compute`` (one host's hypervisor, or
many simulated ones).

``stratus up`` runs them all inside its one process over ``memory://``; on many hosts each
runs on its own and they meet over the broker (``[messaging] transport_url``) and the
databases, as the API processes (``stratus api``) do. Schema upgrades are the
operator's (``stratus manage db sync``); a process refuses to start on an old schema.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from oslo_config import cfg

from stratus.exceptions import ConfigError

LOG = logging.getLogger(__name__)


def host_names(conf: Any) -> list[str]:
    """The compute hosts a process runs: ``[DEFAULT] host``, or with ``[compute]
    simulated_hosts`` above 1, ``HOST-0001``, ``HOST-0002``..."""
    count = conf.compute.simulated_hosts
    return [conf.host] if count == 1 else [f"{conf.host}-{i:04d}" for i in range(1, count + 1)]


def start_scheduler(conf: Any, db: Any, transport: Any) -> Any:
    from stratus.scheduler.service import SchedulerService

    scheduler = SchedulerService(conf, db, transport, conf.host)
    scheduler.start()
    return scheduler


def start_conductor(conf: Any, db: Any, transport: Any, network: Any) -> Any:
    from stratus.compute.conductor import Conductor

    conductor = Conductor(conf, db, transport, conf.host)
    conductor.network = network
    conductor.start()
    return conductor


def start_hosts(conf: Any, transport: Any, network: Any, images: Any, state: Any = None,
                stopping: threading.Event | None = None, volumes: Any = None) -> Any:
    """This process's compute hosts; ``state``: compute's state in-process (the embedded
    cloud), else through a conductor (waited for, until ``stopping`` is set)."""
    from stratus.compute.manager import ComputeHosts

    hosts = ComputeHosts(conf, host_names(conf), network, images, transport, state, volumes)
    if state is None:
        hosts.state.wait(stopping)
        if stopping is not None and stopping.is_set():
            return hosts  # stopped before any conductor answered: nothing to start
    hosts.start()
    return hosts


def _database_set(conf: Any) -> list[str]:
    """The ``[database]`` options the configuration files set."""
    found = []
    for name in ("connection", "service_connections"):
        location = conf.get_location(name, "database")
        if location is not None and location.location is not cfg.Locations.opt_default:
            found.append(name)
    return found


def _check_shape(conf: Any, command: str) -> None:
    """:raises ConfigError: an in-process transport; for a compute host, a database it would
    hold credentials of or a service it would reach in-process; else tables older than this code."""
    from stratus.db import migration

    if conf.messaging.transport_url.startswith("memory://"):
        raise ConfigError(f"`stratus {command}` talks to the other services over a broker: set [messaging] "
                          "transport_url (memory:// only connects the services of one process; `stratus up` "
                          "runs them all in one)")
    if command == "compute":
        held = _database_set(conf)
        if held:
            raise ConfigError(f"`stratus compute` needs no database (a compute host reaches compute's state "
                              f"through a conductor and the other services through their APIs, so a compromised "
                              f"host holds no database credentials): remove [database] {', '.join(held)} from "
                              f"its configuration ({', '.join(conf.config_file) or 'no file'})")
        local = [f"[{name}_client] mode" for name in ("image", "network") if conf[f"{name}_client"].mode == "local"]
        if local:
            raise ConfigError(f"`stratus compute` reaches the image and network services through their APIs: set "
                              f"{' and '.join(local)} = rest (and [service_credentials])")
        return
    local = [name for name in ("network", "image") if conf[f"{name}_client"].mode == "local"]
    stale = [s for s, (current, head) in migration.status(conf, ["compute", *local, "servicegroup"])
             .items() if current != head]
    if stale:
        raise ConfigError(f"the {', '.join(stale)} tables are not at the latest revision; run "
                          "`stratus manage db sync` first")


def run(conf: Any, command: str, out: Any) -> None:
    """Run ``stratus conductor``, ``stratus scheduler`` or ``stratus compute`` until SIGTERM or SIGINT, then stop
    cleanly (RPC servers drain, heartbeats stop, connections close).

    :raises ConfigError: see :func:`_check_shape`.
    """
    from stratus.conf.clients import CLIENTS
    from stratus.db.engine import Database
    from stratus.image import client as image_client
    from stratus.network import client as network_client
    from stratus.rpc import transport_from_conf
    from stratus.volume import client as volume_client

    _check_shape(conf, command)
    transport = transport_from_conf(conf)
    db = Database.for_service(conf, "compute") if command != "compute" else None
    auth = None
    if command != "scheduler" and any(conf[group].mode == "rest" for group in CLIENTS):
        from stratus.service_auth import ServiceAuth

        auth = ServiceAuth(conf)
    network = network_client.from_conf(conf, transport, auth=auth) if command != "scheduler" else None
    images = image_client.from_conf(conf, auth=auth) if command == "compute" else None
    # a host attaches volumes only through the block-storage API (it opens no database)
    volumes = volume_client.from_conf(conf, auth=auth) if command == "compute" and \
        conf.volume_client.mode == "rest" else None
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    started: list[Any] = []
    try:
        if command == "conductor":
            started.append(start_conductor(conf, db, transport, network))
            what = f"conductor on {conf.host}"
        elif command == "scheduler":
            started.append(start_scheduler(conf, db, transport))
            what = f"scheduler on {conf.host}"
        else:
            started.append(start_hosts(conf, transport, network, images, stopping=stopping, volumes=volumes))
            names = host_names(conf)
            what = f"compute host {names[0]}" if len(names) == 1 else f"{len(names)} compute hosts " \
                   f"({names[0]} .. {names[-1]})"
        print(f"Stratus {what} serving over {transport.url.split('@')[-1]} (Ctrl-C stops it)", file=out, flush=True)
        stopping.wait()
    finally:
        for part in reversed(started):
            part.stop()
        for client in (network, images, volumes):
            if client is not None:
                client.close()
        if auth is not None:
            auth.close()
        if db is not None:
            db.dispose()
        LOG.info("stratus %s stopped", command)
