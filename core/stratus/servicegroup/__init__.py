"""Service records and heartbeats: which services run where, and whether they are up.

Every long-running service (conductor, scheduler, compute, volume, agents) writes a
heartbeat every ``[service] report_interval`` seconds; a service whose last heartbeat
is older than ``[service] service_down_time`` is down.
"""
