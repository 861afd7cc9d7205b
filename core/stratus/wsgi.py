"""WSGI entry points for mounting Stratus under any WSGI server.

``create_app()`` returns the composite app (every service under its prefix);
``create_app("compute")`` returns one service's app, to mount at its prefix yourself.
Configuration files come from ``STRATUS_CONFIG_FILES`` (separated by ``:``) or, if it is
unset, oslo.config's search (``~/.stratus/stratus.conf``, ``/etc/stratus/stratus.conf``).

With gunicorn::

    gunicorn 'stratus.wsgi:create_app()'
    gunicorn 'stratus.wsgi:create_app("compute")'

Call it once per process (after fork): each app holds its own connections.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from stratus import conf as stratus_conf
from stratus.api import composite
from stratus.api.deps import build_deps
from stratus.hooks.manager import create_plugin_manager


def create_app(service: str | None = None) -> Callable:
    """Build the composite app, or the app of ``service`` (its catalog name, e.g. ``"image"``).

    :raises ConfigError: the configuration is invalid (every bad option is listed).
    :raises ValueError: ``service`` is not one Stratus serves.
    """
    files = os.environ.get("STRATUS_CONFIG_FILES")
    conf = stratus_conf.build(files.split(":") if files else None)
    stratus_conf.validate(conf)
    plugins = create_plugin_manager(conf)
    plugins.hook.stratus_startup(conf=conf, service="api")
    app = composite.build(build_deps(conf, plugins))
    if service is None:
        return app
    for mounted in app.apps.values():
        if mounted.spec.name == service:
            return mounted
    names = ", ".join(sorted(m.spec.name for m in app.apps.values()))
    raise ValueError(f"no service named {service!r}; Stratus serves: {names}")
