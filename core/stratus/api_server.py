"""``stratus api``: the composite API under gunicorn with several workers.

Each worker builds its own app (database connections and broker connections are not
shared across fork). Migrations are the operator's job (``stratus manage db sync``).
"""

from __future__ import annotations

from typing import Any

from stratus.api import composite
from stratus.api.deps import build_deps, close_deps
from stratus.exceptions import ConfigError
from stratus.hooks.manager import call_safely, create_plugin_manager
from stratus.identity.service import IdentityService
from stratus.serving import GunicornServer, ensure_can_listen, gunicorn_options


class ApiWorker:
    """What one gunicorn worker holds: the plugins and the composite app built from them."""

    def __init__(self, conf: Any) -> None:
        self.conf = conf
        self.plugins: Any = None
        self.deps: Any = None

    def create_app(self) -> composite.CompositeApp:
        self.plugins = create_plugin_manager(self.conf)
        self.plugins.hook.stratus_startup(conf=self.conf, service="api")
        self.deps = build_deps(self.conf, self.plugins)
        return composite.build(self.deps)

    def shutdown(self) -> None:
        if self.plugins is not None:
            call_safely(self.plugins, "stratus_shutdown", service="api")
        if self.deps is not None:
            close_deps(self.deps)


def _refresh_catalog(conf: Any, identity: IdentityService, host: str, port: int) -> str:
    """The catalog follows ``[api] public_endpoint``, else the address served on (unless that
    is a wildcard, which no client can reach: then the bootstrap's URLs stay). What to say."""
    from stratus import registry
    from stratus.identity.bootstrap import refresh_catalog

    public = conf.api.public_endpoint
    if not public and host not in ("0.0.0.0", "::", ""):  # noqa: S104 (a wildcard is what is refused)
        public = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    if not public:
        return ("; the catalog keeps the URLs `stratus manage bootstrap` wrote (set [api] public_endpoint to have "
                "it follow)")
    served = {t for s in registry.SERVICES if s.catalog is not None and s.name in conf.api.services
              for t in (s.catalog.type, *(alias for alias, _ in s.catalog.aliases))}
    changed = refresh_catalog(identity, public, conf.identity.region_name, served)
    return f"; {len(changed)} catalog endpoints moved to {public.rstrip('/')}" if changed else ""


def run_api(conf: Any, host: str | None = None, port: int | None = None, workers: int | None = None) -> None:
    if conf.messaging.transport_url.startswith("memory://"):
        # builds cast to a conductor no other process can hear would stay in BUILD forever
        raise ConfigError("`stratus api` reaches the conductor, scheduler and compute hosts over a broker: set "
                          "[messaging] transport_url (memory:// only connects the services of one process; "
                          "`stratus up` runs them all in one)")
    host = host or conf.api.host
    port = port if port is not None else conf.api.port
    if port == 0:
        from stratus.embedded import free_port

        port = free_port(host)  # the catalog needs the real port before serving
    ensure_can_listen(host, port, "--host/--port or [api] host/port")
    # fail in the master, before forking, with one message: plugins, auth backend, token keys
    create_plugin_manager(conf)
    catalog = ""
    if "identity" in conf.api.services:
        identity = IdentityService(conf)
        try:
            catalog = _refresh_catalog(conf, identity, host, port)
        finally:
            identity.close()
    options = gunicorn_options(host, port, workers or conf.api.workers, conf.api.threads, conf.debug)
    worker = ApiWorker(conf)

    def announce(addresses: list[tuple[str, int]]) -> None:
        urls = ", ".join(f"http://{host}:{port}" for host, port in addresses)
        print(f"Stratus API serving on {urls} with {options['workers']} workers{catalog}", flush=True)

    GunicornServer(worker.create_app, options, on_ready=announce, on_worker_exit=worker.shutdown).run()
