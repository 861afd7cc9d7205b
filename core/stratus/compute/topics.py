"""The RPC topics of the compute service's processes (``compute.<host>``, the conductor's)."""

from __future__ import annotations

TOPIC = "compute"
CONDUCTOR_TOPIC = "conductor"
