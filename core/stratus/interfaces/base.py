"""What every driver, whatever its slot, has in common.

A driver is a class registered under an entry-point namespace (see the table in
``docs/drivers.md``). The loader instantiates it with the service's ``ConfigOpts`` after
registering the options the class lists, so a driver's ``__init__`` may read its own
option group. ``__init__`` must not block for long; it may check that what it needs is
present (raising :class:`~stratus.exceptions.MissingDependency`) but does no lasting I/O.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from stratus.exceptions import UnsupportedOperation

ApiVersion = tuple[int, int]


class SupportStatus(enum.StrEnum):
    """How much the project stands behind a driver; experimental ones log a warning."""

    SUPPORTED = "supported"
    EXPERIMENTAL = "experimental"
    UNSUPPORTED = "unsupported"


class Driver(abc.ABC):
    """Base of every driver interface.

    Interface classes set ``API_VERSION`` (major, minor): the major changes when a
    mandatory method changes incompatibly, the minor when optional operations or
    capabilities are added. A driver class sets ``api_version`` to the version it was
    written for; the loader accepts it when the majors are equal and the driver's minor
    is not newer than the core's.
    """

    API_VERSION: ClassVar[ApiVersion] = (1, 0)
    #: capability flag type of the interface; drivers set ``capabilities`` to its members
    CAPABILITIES: ClassVar[type[enum.Flag]]
    #: optional sub-interface a driver must also subclass when it declares the capability
    CAPABILITY_INTERFACES: ClassVar[Mapping[Any, type]] = {}

    api_version: ClassVar[ApiVersion | None] = None
    capabilities: ClassVar[enum.Flag]
    status: ClassVar[SupportStatus] = SupportStatus.SUPPORTED
    #: the entry-point name the driver was loaded as; set by the loader
    driver_name: str = ""

    def __init__(self, conf: Any) -> None:
        self.conf = conf

    @classmethod
    def list_opts(cls) -> Sequence[tuple[str, Sequence[Any]]]:
        """Return ``[(group_name, [oslo_config.cfg.Opt, ...]), ...]`` this driver reads.

        The loader registers them before instantiating the driver; the driver package also
        lists the same through the ``oslo.config.opts`` entry point so the sample covers it.
        """
        return []


def api_version_compatible(core: ApiVersion, driver: ApiVersion) -> bool:
    """True when a driver written for ``driver`` works with an interface at ``core``."""
    return driver[0] == core[0] and driver[1] <= core[1]


def require(driver: Driver, capability: enum.Flag, operation: str) -> None:
    """Raise :class:`UnsupportedOperation` unless ``driver`` declares ``capability``.

    The core calls this before every optional operation, so that an API user gets a
    clear 4xx instead of a driver failing half-way.
    """
    if capability not in driver.capabilities:
        name = getattr(driver, "driver_name", type(driver).__name__)
        cap_name = capability.name or str(capability)
        raise UnsupportedOperation(operation, name, cap_name)
