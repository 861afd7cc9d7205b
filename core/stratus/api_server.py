"""``stratus api``: the composite API under gunicorn with several workers.

Each worker builds its own app (database connections and broker connections are not
shared across fork). Migrations are the operator's job (``stratus manage db sync``).
"""

from __future__ import annotations

from typing import Any

from stratus.api import composite
from stratus.api.app import ApiDeps
from stratus.hooks.manager import call_safely, create_plugin_manager
from stratus.serving import GunicornServer, gunicorn_options


def make_app(conf: Any) -> composite.CompositeApp:
    plugins = create_plugin_manager(conf)
    plugins.hook.stratus_startup(conf=conf, service="api")
    make_app.plugins = plugins  # type: ignore[attr-defined]
    return composite.build(ApiDeps(conf, plugins))


def run_api(conf: Any, host: str | None = None, port: int | None = None, workers: int | None = None) -> None:
    create_plugin_manager(conf)  # fail in the master, before forking, if plugins are wrong
    options = gunicorn_options(host or conf.api.host, port if port is not None else conf.api.port,
                               workers or conf.api.workers, conf.api.threads, conf.debug)

    def on_exit() -> None:
        plugins = getattr(make_app, "plugins", None)
        if plugins is not None:
            call_safely(plugins, "stratus_shutdown", service="api")

    def announce(addresses: list[tuple[str, int]]) -> None:
        urls = ", ".join(f"http://{host}:{port}" for host, port in addresses)
        print(f"Stratus API serving on {urls} with {options['workers']} workers", flush=True)

    GunicornServer(lambda: make_app(conf), options, on_ready=announce, on_worker_exit=on_exit).run()
