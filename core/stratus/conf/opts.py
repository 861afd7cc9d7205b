"""The ``oslo.config.opts`` entry point of the core: every core option, for the sample."""

from __future__ import annotations

from oslo_config import cfg

from stratus.conf import MODULES


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    result: list[tuple[str | None, list[cfg.Opt]]] = []
    for module in MODULES:
        result.extend(module.list_opts())
    return result
