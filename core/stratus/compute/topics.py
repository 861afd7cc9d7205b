"""The RPC topics of the compute service's processes (``compute.<host>``, the conductor's, the
schedulers')."""

from __future__ import annotations

TOPIC = "compute"
CONDUCTOR_TOPIC = "conductor"
SCHEDULER_TOPIC = "scheduler"
#: the conductors' answers to compute hosts' reads and writes of compute's state (a topic of
#: their own: they never wait behind the builds the conductors orchestrate)
HOST_STATE_TOPIC = "conductor_state"
#: what the schedulers are told (fanout) when hosts or aggregates changed: read the nodes again
HOSTS_CHANGED = "host_states_changed"
