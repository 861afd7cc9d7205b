"""Public test helpers for the core's tests and for driver packages' own tests."""

from __future__ import annotations

from stratus.loading import installed_drivers

__all__ = ["installed_drivers"]
