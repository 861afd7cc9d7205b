"""The embedded cloud (``stratus up``): one process, SQLite, ``memory://``, reference drivers.

The transport stays whatever ``[messaging] transport_url`` says (``memory://`` unless the
configuration names a broker): with a broker, agents on other hosts can join the cloud.

The gunicorn master binds the port and runs migrations; a single gthread worker holds
the composite app and every in-process service, so the in-memory transport connects them.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import socket
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import yaml

from stratus import __version__, defaults, registry
from stratus.api import composite
from stratus.api.deps import build_deps, close_deps
from stratus.compute.bootstrap import ensure_standard_flavors
from stratus.conf.console import proxy_url
from stratus.db import migration
from stratus.db.engine import Database
from stratus.exceptions import BackendUnavailable, ConfigError, MissingDependency
from stratus.hooks.manager import call_safely, create_plugin_manager
from stratus.identity.bootstrap import bootstrap
from stratus.identity.keys import KeyRepository
from stratus.identity.service import IdentityService
from stratus.image.definitions import load as load_metadefs
from stratus.serving import GunicornServer, ensure_can_listen, gunicorn_options

LOG = logging.getLogger(__name__)

ENDPOINT_PATHS = tuple((entry.type, entry.announced) for entry in registry.catalog())


def embedded_overrides(data_dir: str) -> dict[str, dict[str, object]]:
    return {
        "DEFAULT": {"state_path": data_dir},
        "database": {"connection": f"sqlite:///{os.path.join(data_dir, 'stratus.sqlite')}"},
    }


def free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def read_admin_password(path: str) -> str | None:
    """The admin password an earlier start wrote to ``clouds.yaml``, if any."""
    try:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
        return data["clouds"]["stratus"]["auth"]["password"]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return None


def write_clouds_yaml(path: str, auth_url: str, password: str, region: str) -> None:
    """Write ``clouds.yaml`` (cloud ``stratus``) readable by its owner only."""
    document = {"clouds": {"stratus": {
        "auth": {"auth_url": auth_url, "username": "admin", "password": password, "project_name": "admin",
                 "user_domain_name": "Default", "project_domain_name": "Default"},
        "region_name": region,
        "identity_api_version": 3,
    }}}
    temporary = f"{path}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(document, f, default_flow_style=False, sort_keys=False)
    os.replace(temporary, path)


def start_volume(conf: Any, deps: Any) -> list[Any]:
    """The volume scheduler and one volume service per enabled backend (``[volume] enabled_backends``)."""
    from stratus.volume.processes import start_backends, start_scheduler

    volume = deps.services["volume"]
    return [start_scheduler(conf, volume.db, volume.transport),
            *start_backends(conf, volume.db, volume.transport, volume.images)]


def start_compute(conf: Any, deps: Any) -> list[Any]:
    """The scheduler, the conductor and this process's compute hosts (``[compute] simulated_hosts``)."""
    from stratus.compute.host_state import HostState
    from stratus.compute.processes import start_conductor, start_hosts, start_scheduler

    compute = deps.services["compute"]
    network = compute.network  # the network service's client
    return [start_scheduler(conf, compute.db, compute.transport),
            start_conductor(conf, compute.db, compute.transport, network),
            start_hosts(conf, compute.transport, network, compute.images,
                        HostState(conf, compute.db, compute.registry), volumes=compute.volumes)]


@dataclass
class Embedded:
    """Runs the embedded cloud with ``conf`` (already validated, overrides applied)."""

    conf: Any
    host: str
    port: int
    out: Any = field(default=sys.stdout)
    defaults: bool = True
    plugins: Any = field(default=None, init=False)
    deps: Any = field(default=None, init=False)
    agent: Any = field(default=None, init=False)
    console_proxy: Any = field(default=None, init=False)
    hosts: list = field(default_factory=list, init=False)

    @property
    def base_url(self) -> str:
        return f"http://[{self.host}]:{self.port}" if ":" in self.host else f"http://{self.host}:{self.port}"

    @property
    def public_url(self) -> str:
        """Where clients reach the APIs: ``[api] public_endpoint`` (a proxy in front), else the
        address served on. The catalog, clouds.yaml and the banner use it."""
        return (self.conf.api.public_endpoint or self.base_url).rstrip("/")

    @property
    def clouds_yaml(self) -> str:
        return os.path.join(self.conf.state_path, "clouds.yaml")

    def prepare(self) -> None:
        """Everything that must hold before serving, done in the master before forking, so
        a problem is one message instead of a worker that fails to boot."""
        for option in ("private_network_cidr", "public_network_cidr"):
            value = self.conf.embedded[option]
            try:
                if value or option == "private_network_cidr":
                    ipaddress.ip_network(value)
            except ValueError as exc:
                raise ConfigError(f"[embedded] {option}: {exc}") from None
        if self.port == 0:
            self.port = free_port(self.host)  # the catalog needs the real port before serving
        if self.conf.console_proxy.port is None:  # the console URLs need the proxy's port before serving
            self.conf.set_override("port", free_port(self.conf.console_proxy.host), group="console_proxy")
        ensure_can_listen(self.host, self.port, "--host/--port")
        create_plugin_manager(self.conf)
        os.makedirs(self.conf.state_path, exist_ok=True)
        KeyRepository(self.conf.token.key_repository, self.conf.token.max_active_keys).setup()
        KeyRepository(self.conf.identity.credential_key_repository).setup()
        migration.sync(self.conf)
        password = read_admin_password(self.clouds_yaml) or secrets.token_urlsafe(18)
        identity = IdentityService(self.conf)
        try:
            bootstrap(identity, password, self.public_url, self.conf.identity.region_name)
        finally:
            identity.close()
        compute_db = Database.for_service(self.conf, "compute")
        try:
            ensure_standard_flavors(compute_db)
        finally:
            compute_db.dispose()
        image_db = Database.for_service(self.conf, "image")
        try:
            load_metadefs(image_db)
        finally:
            image_db.dispose()
        write_clouds_yaml(self.clouds_yaml, f"{self.public_url}/identity", password, self.conf.identity.region_name)

    def create_app(self) -> Any:
        self.plugins = create_plugin_manager(self.conf)
        self.plugins.hook.stratus_startup(conf=self.conf, service="embedded")
        self.deps = build_deps(self.conf, self.plugins)
        # every app is imported before the service threads start: an import racing a
        # thread's lazy one (the idna codec under kombu's connect) can deadlock the interpreter
        app = composite.build(self.deps)
        network = self.deps.services["network"]
        self.agent = network.plugin.create_agent(self.conf)
        if self.agent is not None:
            self.agent.start()  # this host's data plane, served by the same process
        from stratus.compute.console_proxy import ConsoleProxy

        proxy = self.conf.console_proxy
        self.console_proxy = ConsoleProxy(self.deps.services["compute"].db, proxy.host, proxy.port, proxy.web).start()
        self.hosts = start_volume(self.conf, self.deps)
        try:
            self.hosts += start_compute(self.conf, self.deps)
        except (MissingDependency, BackendUnavailable) as exc:
            # one clear line, not a worker's traceback: what the hypervisor lacks is the operator's to fix
            print(f"stratus: the compute host cannot use its hypervisor "
                  f"([compute] hypervisor = {self.conf.compute.hypervisor}): {exc}", file=sys.stderr, flush=True)
            self.stop_services()
            raise SystemExit(3) from None
        return app

    def stop_services(self) -> None:
        if self.plugins is not None:
            call_safely(self.plugins, "stratus_shutdown", service="embedded")
        for service in reversed(self.hosts):
            service.stop()
        if self.console_proxy is not None:
            self.console_proxy.stop()
        if self.agent is not None:
            self.agent.stop()
        if self.deps is not None:
            close_deps(self.deps)

    def announce(self, addresses: list[tuple[str, int]]) -> None:
        """Called when the port listens, before the worker serves: the defaults are made over
        HTTP once it does, on a thread (the master must go on to start the worker)."""
        threading.Thread(target=self._defaults_then_announce, name="stratus-defaults", daemon=True).start()

    def _defaults_then_announce(self) -> None:
        password = read_admin_password(self.clouds_yaml) or ""
        try:
            defaults.answering(self.base_url, password)
        except (OSError, ValueError, KeyError) as exc:
            print(f"stratus: the cloud at {self.base_url} does not answer ({exc}); see the log above",
                  file=self.out, flush=True)
            return
        made, public = [], False
        embedded = self.conf.embedded
        try:
            if self.defaults:
                made = defaults.ensure(self.base_url, password, embedded.private_network_cidr,
                                       embedded.public_network_cidr)
                public = bool(embedded.public_network_cidr)
        except (OSError, ValueError, KeyError) as exc:
            made = [f"  could not create the default networks and image: {exc}"]
        lines = [f"Stratus {__version__} embedded cloud is up (Ctrl-C stops it)",
                 f"  data dir       {self.conf.state_path}"]
        if self.public_url != self.base_url:
            lines.append(f"  listening on   {self.base_url} (clients use [api] public_endpoint)")
        lines += [f"  {name:<14} {self.public_url}{path}" for name, path in ENDPOINT_PATHS]
        if "object_store" in self.conf.api.services:
            lines.append(f"  {'s3':<14} {self.public_url}/s3 (path-style; keys: openstack ec2 credentials create)")
        lines.append(f"  {'consoles':<14} {proxy_url(self.conf, 'http')} (noVNC; serial over websockets)")
        lines += [f"  clouds.yaml    {self.clouds_yaml} (cloud 'stratus', user admin)", *made,
                  "",
                  f"  export OS_CLIENT_CONFIG_FILE={self.clouds_yaml}",
                  f"  openstack --os-cloud stratus server create --image {defaults.IMAGE} --flavor m1.tiny "
                  f"--network {defaults.NETWORK} demo --wait"]
        if public:
            lines.append(f"  openstack --os-cloud stratus floating ip create {defaults.PUBLIC_NETWORK}")
        lines.append("  openstack --os-cloud stratus token issue")
        print("\n".join(lines), file=self.out, flush=True)

    def run(self) -> None:
        self.prepare()
        options = gunicorn_options(self.host, self.port, workers=1, threads=self.conf.api.threads,
                                   debug=self.conf.debug)
        GunicornServer(self.create_app, options, on_ready=self.announce, on_worker_exit=self.stop_services).run()
