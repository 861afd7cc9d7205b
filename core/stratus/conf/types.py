"""Option types whose values are checked when read, so a wrong value fails at start."""

from __future__ import annotations

import importlib.util

from oslo_config import types


class DriverName(types.String):
    """The entry-point name of an installed driver in ``namespace``.

    An unknown name fails with the names that are installed. The check runs when the
    option is read, so it sees the drivers installed at that moment.
    """

    def __init__(self, namespace: str) -> None:
        super().__init__(type_name=f"driver name ({namespace})")
        self.namespace = namespace

    def __call__(self, value: object) -> str:
        from stratus import loading  # the loader imports the interfaces; keep option modules light

        name = super().__call__(value)
        installed = loading.installed_names(self.namespace)
        if name not in installed:
            choices = ", ".join(installed) or "none"
            raise ValueError(f"no {self.namespace!r} driver named {name!r}; installed: {choices}")
        return name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DriverName) and other.namespace == self.namespace

    __hash__ = types.String.__hash__


class DatabaseURL(types.String):
    """An SQLAlchemy URL whose dialect is known (``sqlite:///...``, ``postgresql+psycopg://...``)."""

    def __init__(self) -> None:
        super().__init__(type_name="database URL")

    def __call__(self, value: object) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        url = super().__call__(value)
        try:
            make_url(url).get_dialect().import_dbapi()  # the Python driver too, not only the dialect
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            raise ValueError(f"{url!r} is not a usable database URL: {exc}") from None
        except ImportError as exc:
            raise ValueError(f"{url!r} needs a database driver that is not installed: {exc} (install "
                             "stratus[postgresql] or stratus[mysql], or the driver the URL names)") from None
        return url


#: the client library a kombu transport imports (memory:// and filesystem:// need none)
_TRANSPORT_PACKAGES = {"amqp": "amqp", "amqps": "amqp", "pyamqp": "amqp", "librabbitmq": "librabbitmq",
                       "redis": "redis", "rediss": "redis", "sqs": "boto3", "kafka": "confluent_kafka",
                       "zookeeper": "kazoo", "mongodb": "pymongo", "etcd": "etcd3", "azurestoragequeues":
                       "azure.storage.queue", "azureservicebus": "azure.servicebus"}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a dotted name whose parent package is missing
        return False


class TransportURL(types.String):
    """A kombu URL with a known transport (``memory://``, ``amqp://user:pw@host:5672//``)."""

    def __init__(self) -> None:
        super().__init__(type_name="transport URL")

    def __call__(self, value: object) -> str:
        from kombu.transport import TRANSPORT_ALIASES

        url = super().__call__(value)
        for part in url.split(";"):
            scheme = part.split("://", 1)[0] if "://" in part else ""
            if scheme not in TRANSPORT_ALIASES:
                known = ", ".join(sorted(k for k in TRANSPORT_ALIASES if k in {"memory", "amqp", "amqps", "pyamqp"}))
                raise ValueError(f"{part!r} is not a transport URL (schemes: {known})")
            needed = _TRANSPORT_PACKAGES.get(scheme)
            if needed is not None and not _installed(needed):
                raise ValueError(f"{part!r} needs the Python package {needed!r} of its transport; it is not "
                                 "installed")
        return url


class StoreSpec(types.String):
    """``name:driver`` of an image store, e.g. ``fast:file``; the driver must be installed."""

    def __init__(self) -> None:
        super().__init__(type_name="store name:driver")

    def __call__(self, value: object) -> str:
        from stratus import loading

        spec = super().__call__(value).strip()
        name, _, driver = spec.partition(":")
        if not name.isidentifier() or not driver:
            raise ValueError(f"{spec!r} is not name:driver (e.g. fast:file)")
        installed = loading.installed_names("stratus.image_store")
        if driver not in installed:
            raise ValueError(f"no 'stratus.image_store' driver named {driver!r}; installed: "
                             f"{', '.join(installed) or 'none'}")
        return spec

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoreSpec)

    __hash__ = types.String.__hash__
