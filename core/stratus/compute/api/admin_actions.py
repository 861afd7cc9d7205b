"""Server actions for administrators and deferred deletes (Nova's ``os-admin-actions`` and
``os-deferred-delete``): ``os-resetState``, ``injectNetworkInfo``, ``forceDelete``, ``restore``.

Each handler runs in the server's transaction the dispatcher opened and returns what to do
once it commits (or None).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.compute import models, quotas, states
from stratus.compute.api.common import context
from stratus.compute.instances import utcnow
from stratus.compute.topics import TOPIC

SCHEMAS = {
    "os-resetState": {"type": "object", "required": ["state"], "additionalProperties": False,
                      "properties": {"state": {"enum": ["active", "error"]}}},
    "injectNetworkInfo": {"type": ["object", "null"]},
    "forceDelete": {"type": ["object", "null"]},
    "restore": {"type": ["object", "null"]},
}
POLICIES = {"os-resetState": "os_compute_api:os-admin-actions:reset_state",
            "injectNetworkInfo": "os_compute_api:os-admin-actions:inject_network_info",
            "forceDelete": "os_compute_api:os-deferred-delete:force",
            "restore": "os_compute_api:os-deferred-delete:restore"}
After = Callable[[], None] | None


def act(compute: Any, req: falcon.Request, policy: Policy, session: Any, instance: models.Instance,
        name: str) -> After:
    """Check and write action ``name`` in the caller's transaction; what to do after it commits."""
    from stratus.compute.api.actions import begin, check  # actions imports this module

    ctx = context(req)
    enforce(req, policy, POLICIES[name], {"project_id": instance.project_id})
    server_id, host = instance.uuid, instance.host
    if name == "os-resetState":
        state = req.context.body[name]["state"]
        instance.vm_state = states.ACTIVE if state == "active" else states.ERROR
        instance.task_state, instance.updated_at = None, utcnow()
        return None
    if name == "injectNetworkInfo":
        check(instance, name, (states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED, states.RESIZED,
                               states.ERROR, states.RESCUED))
        return lambda: compute.rpc(TOPIC).cast(ctx, "inject_network_info", server=host, instance_uuid=server_id)
    if name == "restore":
        check(instance, name, (states.SOFT_DELETED,))
        quotas.check(compute.db, session, compute.conf, instance.project_id, 1, instance.flavor)
        begin(session, instance, name, (states.SOFT_DELETED,), states.RESTORING)
        instance.deleted_at = None
        return lambda: compute.rpc(TOPIC).cast(ctx, "restore_instance", server=host, instance_uuid=server_id)
    raise AssertionError(name)  # forceDelete is a delete, handled by the dispatcher
