"""The block-storage service's processes: the volume scheduler and one volume service per
enabled backend. ``stratus up`` runs them inside its one process over ``memory://``."""

from __future__ import annotations

import logging
from typing import Any

from stratus.conf.volume import backend_groups

LOG = logging.getLogger(__name__)


def start_scheduler(conf: Any, db: Any, transport: Any) -> Any:
    from stratus.volume.scheduler import VolumeScheduler

    scheduler = VolumeScheduler(conf, db, transport, conf.host)
    scheduler.start()
    return scheduler


def start_backends(conf: Any, db: Any, transport: Any, images: Any = None) -> list[Any]:
    """A started :class:`~stratus.volume.manager.VolumeManager` for each enabled backend.

    :raises DriverError, MissingDependency, BackendUnavailable: a backend's driver does not
        load or cannot set its storage up (those started are stopped again).
    """
    from stratus.volume.manager import VolumeManager

    started: list[Any] = []
    try:
        for backend in backend_groups(conf):
            manager = VolumeManager(conf, db, transport, conf.host, backend, images)
            manager.start()
            started.append(manager)
    except Exception:
        for manager in reversed(started):
            manager.stop()
        raise
    return started


def run(conf: Any, command: str, out: Any) -> None:
    """Run ``stratus volume`` or ``stratus volume-scheduler`` until SIGTERM or SIGINT, then stop
    cleanly.

    :raises ConfigError: an in-process transport, or the volume tables older than this code.
    """
    import signal
    import threading

    from stratus.db import migration
    from stratus.db.engine import Database
    from stratus.exceptions import ConfigError
    from stratus.rpc import transport_from_conf

    if conf.messaging.transport_url.startswith("memory://"):
        raise ConfigError(f"`stratus {command}` talks to the other services over a broker: set [messaging] "
                          "transport_url (memory:// only connects the services of one process; `stratus up` "
                          "runs them all in one)")
    stale = [s for s, (current, head) in migration.status(conf, ["volume", "servicegroup"]).items()
             if current != head]
    if stale:
        raise ConfigError(f"the {', '.join(stale)} tables are not at the latest revision; run "
                          "`stratus manage db sync` first")
    transport = transport_from_conf(conf)
    db = Database.for_service(conf, "volume")
    auth = images = None
    if command == "volume":
        from stratus.image import client as image_client

        if conf.image_client.mode == "rest":
            from stratus.service_auth import ServiceAuth

            auth = ServiceAuth(conf)
        images = image_client.from_conf(conf, auth=auth)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    started: list[Any] = []
    try:
        if command == "volume-scheduler":
            started.append(start_scheduler(conf, db, transport))
            what = f"volume scheduler on {conf.host}"
        else:
            started.extend(start_backends(conf, db, transport, images))
            what = "volume services " + ", ".join(m.host for m in started)
        print(f"Stratus {what} serving over {transport.url.split('@')[-1]} (Ctrl-C stops it)", file=out, flush=True)
        stopping.wait()
    finally:
        for part in reversed(started):
            part.stop()
        if images is not None and hasattr(images, "close"):
            images.close()
        if auth is not None:
            auth.close()
        db.dispose()
        LOG.info("stratus %s stopped", command)
