"""Serving WSGI apps with gunicorn, in-process (no ``gunicorn`` command line involved).

:class:`GunicornServer` runs an app factory in each worker. ``on_worker_start`` and
``on_worker_exit`` run in the worker around the app's life: the embedded cloud starts
its in-process services there, so everything shares the one worker process (and its
``memory://`` transport). SIGTERM stops gracefully, SIGINT quickly; both run
``on_worker_exit``.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

from stratus.exceptions import ConfigError


class GunicornServer(BaseApplication):
    def __init__(
        self,
        app_factory: Callable[[], Callable],
        options: dict[str, Any],
        on_ready: Callable[[list[tuple[str, int]]], None] | None = None,
        on_worker_exit: Callable[[], None] | None = None,
    ) -> None:
        self.app_factory = app_factory
        self.options = options
        self.on_ready = on_ready
        self.on_worker_exit = on_worker_exit
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if self.on_ready is not None:
            on_ready = self.on_ready

            def when_ready(server: Any) -> None:
                on_ready([listener.sock.getsockname()[:2] for listener in server.LISTENERS])

            self.cfg.set("when_ready", when_ready)
        if self.on_worker_exit is not None:
            on_exit = self.on_worker_exit
            self.cfg.set("worker_exit", lambda server, worker: on_exit())

    def load(self) -> Callable:
        return self.app_factory()


def ensure_can_listen(host: str, port: int, option: str) -> None:
    """Fail at once, naming the address and the option, when ``host:port`` cannot be bound.

    gunicorn would retry five times and exit with log lines; an operator needs one message.

    :raises ConfigError: the address is in use or not this machine's.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}); choose another with {option}"
            ) from None


def gunicorn_options(host: str, port: int, workers: int, threads: int, debug: bool) -> dict[str, Any]:
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "accesslog": "-" if debug else None,
        "errorlog": "-",
        "loglevel": "debug" if debug else "warning",
        "proc_name": "stratus",
        # uploads of large images and objects are long requests, not hung workers
        "timeout": 3600,
        "graceful_timeout": 10,
        # longer than clients' polling intervals (the openstack CLI's --wait polls every 5 s): a
        # server closing an idle connection just as the client reuses it fails that request
        "keepalive": 75,
    }
