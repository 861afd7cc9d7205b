"""The core's hypervisor drivers (entry points in ``stratus.hypervisor``)."""
