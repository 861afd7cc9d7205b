"""The RPC topics of the compute service's processes (``compute.<host>``, the conductor's, the
schedulers')."""

from __future__ import annotations

TOPIC = "compute"
CONDUCTOR_TOPIC = "conductor"
SCHEDULER_TOPIC = "scheduler"
#: what the schedulers are told (fanout) when hosts or aggregates changed: read the nodes again
HOSTS_CHANGED = "host_states_changed"
