"""The driver loader: the only module that calls stevedore.

Drivers are named by entry point (``[compute] hypervisor = kvm``), never by dotted path.
Everything that can go wrong when loading one becomes an exception that names the
problem: :class:`~stratus.exceptions.DriverNotFound` (with the installed names),
:class:`~stratus.exceptions.DriverLoadError` (with the distribution and the cause) or
:class:`~stratus.exceptions.DriverInterfaceError` (wrong type, unimplemented methods,
capabilities without their interface, incompatible ``api_version``). An enabled driver
is never skipped silently.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import inspect
import logging
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from stevedore import driver as sv_driver
from stevedore import exception as sv_exception
from stevedore import extension as sv_extension

from stratus.exceptions import DriverInterfaceError, DriverLoadError, DriverNotFound
from stratus.interfaces import auth, backup_target, hypervisor, image_store, network, object_backend, scheduler, volume
from stratus.interfaces.base import Driver, SupportStatus, api_version_compatible

LOG = logging.getLogger(__name__)

#: every driver slot: entry-point namespace -> the interface its drivers implement
NAMESPACES: Mapping[str, type[Driver]] = {
    "stratus.hypervisor": hypervisor.Hypervisor,
    "stratus.scheduler.filters": scheduler.Filter,
    "stratus.scheduler.weighers": scheduler.Weigher,
    "stratus.volume": volume.VolumeBackend,
    "stratus.network": network.NetworkPlugin,
    "stratus.image_store": image_store.ImageStore,
    "stratus.auth": auth.AuthBackend,
    "stratus.object_backend": object_backend.ObjectBackend,
    "stratus.backup_target": backup_target.BackupTarget,
}

_overrides: dict[str, sv_extension.ExtensionManager] = {}


@dataclass(frozen=True, slots=True)
class DriverInfo:
    """One installed driver, as ``stratus drivers`` shows it."""

    namespace: str
    name: str
    distribution: str
    version: str
    target: str
    status: str | None
    capabilities: tuple[str, ...]
    error: str | None = None


def interface_for(namespace: str) -> type[Driver]:
    try:
        return NAMESPACES[namespace]
    except KeyError:
        raise DriverNotFound(namespace, "", ()) from None


def _distribution_of(namespace: str, name: str) -> tuple[str, str]:
    return _distribution_on_path(namespace, name, tuple(sys.path))


@functools.lru_cache(maxsize=256)
def _distribution_on_path(namespace: str, name: str, path: tuple[str, ...]) -> tuple[str, str]:
    # every distribution's metadata is read and parsed: a simulated-hosts process loading a
    # driver per host asked a thousand times at start (seconds of CPU)
    for dist in importlib.metadata.distributions(path=list(path)):
        for ep in dist.entry_points:
            if ep.group == namespace and ep.name == name:
                return dist.metadata["Name"], dist.version
    return "unknown", ""


def _all_extensions(namespace: str) -> sv_extension.ExtensionManager:
    if namespace in _overrides:
        return _overrides[namespace]
    return sv_extension.ExtensionManager(namespace, invoke_on_load=False, on_load_failure_callback=None)


def installed_names(namespace: str) -> list[str]:
    """Names registered in ``namespace``, loadable or not, sorted."""
    if namespace in _overrides:
        return sorted(_overrides[namespace].names())
    return list(_entry_point_names(namespace, tuple(sys.path)))


@functools.lru_cache(maxsize=64)
def _entry_point_names(namespace: str, path: tuple[str, ...]) -> tuple[str, ...]:
    # reading every distribution's metadata costs tens of ms; a simulated-hosts process asks once
    # per host, so the answer is kept for as long as the import path is the same
    return tuple(sorted({ep.name for ep in importlib.metadata.entry_points(group=namespace)}))


def check_driver_class(namespace: str, name: str, cls: Any, distribution: str = "unknown") -> type[Driver]:
    """Refuse ``cls`` unless it is a complete, compatible driver for ``namespace``."""
    interface = interface_for(namespace)
    where = f"{namespace!r} driver {name!r} from distribution {distribution!r}"
    if not (inspect.isclass(cls) and issubclass(cls, interface)):
        raise DriverInterfaceError(
            f"{where} is {cls!r}, not a subclass of {interface.__module__}.{interface.__name__}"
        )
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        raise DriverInterfaceError(f"{where} does not implement: {', '.join(missing)}")
    if cls.api_version is None:
        raise DriverInterfaceError(
            f"{where} declares no api_version; set api_version = {interface.API_VERSION} "
            "to the interface version it was written for"
        )
    if not api_version_compatible(interface.API_VERSION, tuple(cls.api_version)):
        raise DriverInterfaceError(
            f"{where} was written for interface version {cls.api_version}, "
            f"this Stratus provides {interface.API_VERSION}"
        )
    if not isinstance(cls.capabilities, interface.CAPABILITIES):
        raise DriverInterfaceError(
            f"{where} declares capabilities {cls.capabilities!r}, "
            f"which are not {interface.CAPABILITIES.__name__} flags"
        )
    for capability, sub_interface in interface.CAPABILITY_INTERFACES.items():
        if capability in cls.capabilities and not issubclass(cls, sub_interface):
            raise DriverInterfaceError(
                f"{where} declares {capability.name} but does not implement {sub_interface.__name__}"
            )
    if cls.status not in set(SupportStatus):
        raise DriverInterfaceError(f"{where} has unknown support status {cls.status!r}")
    return cls


def load_driver_class(namespace: str, name: str) -> type[Driver]:
    """Import and check the class registered as ``name`` in ``namespace``."""
    interface_for(namespace)
    if namespace in _overrides:
        manager = _overrides[namespace]
        if name not in manager.names():
            raise DriverNotFound(namespace, name, manager.names())
        return check_driver_class(namespace, name, manager[name].plugin, "test")

    def on_failure(_manager: Any, entry_point: Any, exc: BaseException) -> None:
        distribution, _version = _distribution_of(namespace, entry_point.name)
        raise DriverLoadError(namespace, entry_point.name, distribution, exc) from exc

    try:
        manager = sv_driver.DriverManager(
            namespace, name, invoke_on_load=False, on_load_failure_callback=on_failure
        )
    except sv_exception.NoMatches:
        raise DriverNotFound(namespace, name, installed_names(namespace)) from None
    except sv_exception.MultipleMatches as exc:
        raise DriverLoadError(namespace, name, "several", exc) from exc
    distribution, _version = _distribution_of(namespace, name)
    return check_driver_class(namespace, name, manager.driver, distribution)


def register_driver_opts(conf: Any, cls: type[Driver]) -> None:
    for group, opts in cls.list_opts():
        conf.register_opts(list(opts), group=group)


def load_driver(namespace: str, name: str, conf: Any, **kwargs: Any) -> Driver:
    """Load, check, configure and instantiate one driver.

    The driver's options are registered on ``conf`` first; ``kwargs`` are passed to its
    constructor after ``conf``. Experimental drivers log a warning.

    :raises DriverNotFound, DriverLoadError, DriverInterfaceError: as the module says.
    """
    cls = load_driver_class(namespace, name)
    if SupportStatus(cls.status) is not SupportStatus.SUPPORTED:
        LOG.warning("%r driver %r is %s: the Stratus project does not stand behind it", namespace, name, cls.status)
    try:
        register_driver_opts(conf, cls)
        driver = cls(conf, **kwargs)
    except Exception as exc:
        distribution, _version = _distribution_of(namespace, name)
        raise DriverLoadError(namespace, name, distribution, exc) from exc
    driver.driver_name = name
    return driver


def load_drivers(namespace: str, names: Iterable[str], conf: Any, **kwargs: Any) -> list[Driver]:
    """Load several drivers of one namespace (filters, weighers), in the order given."""
    return [load_driver(namespace, name, conf, **kwargs) for name in names]


def list_installed(namespace: str) -> list[DriverInfo]:
    """Describe every driver in ``namespace``; a driver that fails to load is listed with its error."""
    infos = []
    for name in installed_names(namespace):
        distribution, version = ("test", "") if namespace in _overrides else _distribution_of(namespace, name)
        target = ""
        if namespace in _overrides:
            target = _overrides[namespace][name].entry_point_target
        else:
            for ep in importlib.metadata.entry_points(group=namespace, name=name):
                target = ep.value
        try:
            cls = load_driver_class(namespace, name)
        except Exception as exc:
            infos.append(DriverInfo(namespace, name, distribution, version, target, None, (), str(exc)))
            continue
        caps = tuple(flag.name for flag in cls.CAPABILITIES if flag in cls.capabilities and flag.name)
        infos.append(DriverInfo(namespace, name, distribution, version, target, str(SupportStatus(cls.status)), caps))
    return infos


@contextlib.contextmanager
def installed_drivers(namespace: str, drivers: Mapping[str, type]) -> Iterator[None]:
    """Make ``drivers`` the only drivers installed in ``namespace`` while the block runs.

    For tests (exposed as :func:`stratus.testing.installed_drivers`); built on stevedore's
    ``make_test_instance`` so the rest of the loader runs unchanged.
    """
    extensions = [
        sv_extension.Extension(
            name,
            importlib.metadata.EntryPoint(name, f"{cls.__module__}:{cls.__qualname__}", namespace),
            cls,
            None,
        )
        for name, cls in drivers.items()
    ]
    previous = _overrides.get(namespace)
    _overrides[namespace] = sv_extension.ExtensionManager.make_test_instance(extensions, namespace)
    try:
        yield
    finally:
        if previous is None:
            _overrides.pop(namespace, None)
        else:
            _overrides[namespace] = previous
