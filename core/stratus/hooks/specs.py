"""Every hook a plugin can implement. Names start with ``stratus_``.

Hooks observe or extend; they never replace a driver's job. Each argument is documented
with ``:param name:``, and a test fails if one is not. A plugin implements any subset,
with any subset of the arguments, by decorating functions with
:data:`stratus.hooks.hookimpl`.
"""

from __future__ import annotations

from typing import Any

from stratus.hooks import hookspec


@hookspec
def stratus_register_opts(conf: Any) -> None:
    """Register the plugin's own configuration options.

    Called once when the plugin manager is created. Options registered here are still
    filled from the configuration files already read. The plugin should also list the
    same options through the ``oslo.config.opts`` entry point
    so that ``stratus config sample`` shows them.

    :param conf: the process's ``oslo_config.cfg.ConfigOpts``.
    """


@hookspec
def stratus_startup(conf: Any, service: str) -> None:
    """A Stratus process is starting a service; its configuration is valid.

    Raising stops the service from starting (the error is shown to the operator).

    :param conf: the process's ``oslo_config.cfg.ConfigOpts``.
    :param service: the service starting, e.g. ``"api"``, ``"compute"``, ``"embedded"``.
    """


@hookspec
def stratus_shutdown(service: str) -> None:
    """A service is stopping cleanly; release what :func:`stratus_startup` acquired.

    Exceptions are logged and otherwise ignored so that every plugin gets the call.

    :param service: the service stopping, as given to :func:`stratus_startup`.
    """


@hookspec
def stratus_api_routes(service: str, app: Any) -> None:
    """Add routes to a service's API app while it is built.

    Routes added here are served with the same middleware (request ids, auth context,
    error bodies) as the service's own.

    :param service: the API service's catalog name, e.g. ``"compute"``, ``"image"``.
    :param app: the ``falcon.App`` being built; call ``app.add_route(...)``.
    """


@hookspec
def stratus_notify(event_type: str, payload: dict, context: Any) -> None:
    """Something happened that outside systems may want to know (a notification).

    Called after the change is committed, never inside a transaction. Exceptions are
    logged and otherwise ignored: a failing sink must not fail the user's request.

    :param event_type: dotted name, OpenStack style, e.g. ``"compute.instance.create.end"``.
    :param payload: JSON-serialisable description of the resource after the change.
    :param context: the :class:`stratus.context.RequestContext` of the request that caused
        it, or None for changes the system made by itself.
    """


@hookspec
def stratus_request_finished(service: str, method: str, path: str, status: int, duration: float, context: Any) -> None:
    """An API request was answered (for audit and metering).

    :param service: the API service's catalog name.
    :param method: the HTTP method.
    :param path: the request path below the service's prefix, without the query string.
    :param status: the HTTP status code sent.
    :param duration: seconds spent producing the response.
    :param context: the request's :class:`stratus.context.RequestContext`.
    """
