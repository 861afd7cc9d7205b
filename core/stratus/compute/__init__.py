"""Compute service (Nova v2.1 compatible)."""
