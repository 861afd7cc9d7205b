"""The ``oslo.config.opts`` entry point of the core: every core option, for the sample."""

from __future__ import annotations

from oslo_config import cfg

from stratus.conf import MODULES


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    result: list[tuple[str | None, list[cfg.Opt]]] = []
    for module in MODULES:
        result.extend(module.list_opts())
    return result


def installed_namespaces() -> list[str]:
    """``oslo.config.opts`` namespaces of Stratus and its installed driver/plugin packages."""
    import importlib.metadata

    names = {ep.name for ep in importlib.metadata.entry_points(group="oslo.config.opts")}
    return sorted(n for n in names if n == "stratus" or n.startswith("stratus."))


def all_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """Every option of every installed Stratus namespace (core first)."""
    import importlib.metadata

    result: list[tuple[str | None, list[cfg.Opt]]] = []
    wanted = installed_namespaces()
    for ep in importlib.metadata.entry_points(group="oslo.config.opts"):
        if ep.name in wanted:
            result.extend(ep.load()())
    return result
