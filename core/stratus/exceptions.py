"""Exceptions shared by the core, the drivers and the APIs.

This module is a leaf: it imports nothing from the rest of Stratus, so the interface
modules (which may import only this) and driver packages can raise these without pulling
in the core. Each class carries the HTTP status the API layer answers with when the
error reaches a user; the API maps, it does not guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar


class StratusError(Exception):
    """Base of every Stratus error.

    ``message`` is meant for the person who sees it (an API user, an operator reading a
    log), so it says what was wrong and, where it can, what to do.
    """

    http_status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# -- configuration and loading -------------------------------------------------------


class ConfigError(StratusError):
    """A configuration value is missing or wrong; the message names option and file."""


class DriverError(StratusError):
    """Base of the loader's refusals."""


class DriverNotFound(DriverError):
    """No driver of that name is installed in the namespace."""

    def __init__(self, namespace: str, name: str, installed: Iterable[str]) -> None:
        self.namespace = namespace
        self.name = name
        self.installed = sorted(installed)
        choices = ", ".join(self.installed) if self.installed else "none"
        super().__init__(f"no {namespace!r} driver named {name!r}; installed: {choices}")


class DriverLoadError(DriverError):
    """The driver's entry point exists but importing or starting it failed."""

    def __init__(self, namespace: str, name: str, distribution: str, cause: BaseException) -> None:
        self.namespace = namespace
        self.name = name
        self.distribution = distribution
        self.cause = cause
        super().__init__(
            f"{namespace!r} driver {name!r} from distribution {distribution!r} "
            f"failed to load: {type(cause).__name__}: {cause}"
        )


class DriverInterfaceError(DriverError):
    """The loaded object does not implement the interface, or targets another version."""


class MissingDependency(StratusError):
    """A driver needs something from the system that is absent.

    Drivers raise this from ``__init__`` with ``what`` (the missing thing) and ``hint``
    (what to install or start), e.g. ``MissingDependency("libvirt daemon",
    "start libvirtd")``.
    """

    def __init__(self, what: str, hint: str) -> None:
        self.what = what
        self.hint = hint
        super().__init__(f"missing {what}: {hint}")


# -- errors a user can cause (4xx) ---------------------------------------------------


class Invalid(StratusError):
    """The request is malformed or a value is out of range (400)."""

    http_status = 400
    title = "Bad Request"


class UnsupportedOperation(Invalid):
    """The configured backend does not declare the capability this operation needs."""

    def __init__(self, operation: str, backend: str, capability: str) -> None:
        self.operation = operation
        self.backend = backend
        self.capability = capability
        super().__init__(
            f"{operation} is not supported by the {backend!r} backend "
            f"(it does not declare the {capability} capability)"
        )


class NotAuthenticated(StratusError):
    """Credentials are missing or wrong (401)."""

    http_status = 401
    title = "Unauthorized"


class Forbidden(StratusError):
    """The caller is known but not allowed (403)."""

    http_status = 403
    title = "Forbidden"


class NotFound(StratusError):
    """The thing asked for does not exist or is not visible to the caller (404)."""

    http_status = 404
    title = "Not Found"


class Conflict(StratusError):
    """The request conflicts with the current state, e.g. a duplicate (409)."""

    http_status = 409
    title = "Conflict"


class Gone(StratusError):
    """The API or the thing asked for existed once and is gone for good (410)."""

    http_status = 410
    title = "Gone"


class PayloadTooLarge(StratusError):
    """The request body is larger than allowed (413)."""

    http_status = 413
    title = "Request Entity Too Large"


class QuotaExceeded(Forbidden):
    """A quota would be exceeded (403, as Nova and Cinder answer)."""


# -- infrastructure ------------------------------------------------------------------


class BackendUnavailable(StratusError):
    """A backend (database, broker, storage) cannot be reached right now (503)."""

    http_status = 503
    title = "Service Unavailable"


class MessagingTimeout(StratusError):
    """An RPC ``call`` got no reply within its timeout."""

    http_status = 504
    title = "Gateway Timeout"


class RemoteError(StratusError):
    """An RPC ``call`` failed on the server with an exception not known to the caller."""

    def __init__(self, exc_type: str, message: str, details: dict[str, Any] | None = None) -> None:
        self.exc_type = exc_type
        self.details = details or {}
        super().__init__(f"remote {exc_type}: {message}")
