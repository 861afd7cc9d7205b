"""Stratus: an OpenStack-API-compatible IaaS control plane with a thin core and pluggable drivers."""

__version__ = "0.1.0.dev0"
