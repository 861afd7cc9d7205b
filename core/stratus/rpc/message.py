"""The wire format of requests and replies, and how exceptions cross it."""

from __future__ import annotations

import importlib
from typing import Any

from stratus.exceptions import RemoteError, StratusError

VERSION = 1


def request(method: str, args: dict[str, Any], context: dict[str, Any], msg_id: str | None = None,
            reply_to: str | None = None) -> dict[str, Any]:
    return {"v": VERSION, "method": method, "args": args, "context": context,
            "msg_id": msg_id, "reply_to": reply_to}


def failure(exc: BaseException) -> dict[str, Any]:
    cls = type(exc)
    return {"module": cls.__module__, "class": cls.__qualname__, "message": str(exc)}


def rebuild_exception(data: dict[str, Any]) -> StratusError:
    """Turn a reply's failure back into an exception.

    Stratus's own errors come back as their class (so a remote ``NotFound`` is a
    ``NotFound`` to the caller, with its message); anything else is a :class:`RemoteError`.
    """
    module, name, message = data.get("module", ""), data.get("class", ""), data.get("message", "")
    if module.startswith("stratus."):
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            cls = None
        if isinstance(cls, type) and issubclass(cls, StratusError):
            exc = cls.__new__(cls)
            StratusError.__init__(exc, message)
            return exc
    return RemoteError(f"{module}.{name}", message)
