"""The embedded cloud (``stratus up``): one process, SQLite, ``memory://``, reference drivers.

The gunicorn master binds the port and runs migrations; a single gthread worker holds
the composite app and every in-process service, so the in-memory transport connects them.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from stratus import __version__
from stratus.api import composite
from stratus.api.app import ApiDeps
from stratus.db import migration
from stratus.hooks.manager import call_safely, create_plugin_manager
from stratus.serving import GunicornServer, ensure_can_listen, gunicorn_options

LOG = logging.getLogger(__name__)

ENDPOINT_PATHS = (
    ("identity", "/identity/v3"),
    ("compute", "/compute/v2.1"),
    ("image", "/image"),
    ("block-storage", "/volume/v3"),
    ("network", "/network"),
    ("object-store", "/object-store/v1"),
)


def embedded_overrides(data_dir: str) -> dict[str, dict[str, object]]:
    return {
        "DEFAULT": {"state_path": data_dir},
        "database": {"connection": f"sqlite:///{os.path.join(data_dir, 'stratus.sqlite')}"},
        "messaging": {"transport_url": "memory://"},
    }


@dataclass
class Embedded:
    """Runs the embedded cloud with ``conf`` (already validated, overrides applied)."""

    conf: Any
    host: str
    port: int
    out: Any = field(default=sys.stdout)
    plugins: Any = field(default=None, init=False)

    def prepare(self) -> None:
        """Fail in the master, before forking, on what would stop the worker from starting."""
        ensure_can_listen(self.host, self.port, "--host/--port")
        create_plugin_manager(self.conf)
        os.makedirs(self.conf.state_path, exist_ok=True)
        migration.sync(self.conf)

    def create_app(self) -> Any:
        self.plugins = create_plugin_manager(self.conf)
        self.plugins.hook.stratus_startup(conf=self.conf, service="embedded")
        return composite.build(ApiDeps(self.conf, self.plugins))

    def stop_services(self) -> None:
        if self.plugins is not None:
            call_safely(self.plugins, "stratus_shutdown", service="embedded")

    def announce(self, addresses: list[tuple[str, int]]) -> None:
        host, port = addresses[0]
        base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        lines = [f"Stratus {__version__} embedded cloud is up (Ctrl-C stops it)",
                 f"  data dir       {self.conf.state_path}"]
        lines += [f"  {name:<14} {base}{path}" for name, path in ENDPOINT_PATHS]
        lines.append("  clouds.yaml    not written: this build has no token service yet")
        print("\n".join(lines), file=self.out, flush=True)

    def run(self) -> None:
        self.prepare()
        options = gunicorn_options(self.host, self.port, workers=1, threads=self.conf.api.threads,
                                   debug=self.conf.debug)
        GunicornServer(self.create_app, options, on_ready=self.announce, on_worker_exit=self.stop_services).run()
