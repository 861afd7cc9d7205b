"""Default plugin ``log-notifier``: writes every notification to the ``stratus.notifications`` log.

Disable with ``[plugins] disabled = log-notifier``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from stratus.hooks import hookimpl

LOG = logging.getLogger("stratus.notifications")


@hookimpl
def stratus_notify(event_type: str, payload: dict, context: Any) -> None:
    request_id = getattr(context, "request_id", None)
    LOG.info("%s %s %s", event_type, request_id or "-", json.dumps(payload, sort_keys=True, default=str))
