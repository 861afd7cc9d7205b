"""The ``oslo.config.opts`` entry point of the core: every core option, for the sample."""

from __future__ import annotations

import contextlib

from oslo_config import cfg

from stratus.conf import MODULES


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    result: list[tuple[str | None, list[cfg.Opt]]] = []
    from stratus.compute.drivers import fake

    for module in MODULES:
        result.extend(module.list_opts())
    result.extend(fake.list_opts())  # the core's reference drivers' options are in the sample too
    return result


def installed_namespaces() -> list[str]:
    """``oslo.config.opts`` namespaces of Stratus and its installed driver/plugin packages."""
    import importlib.metadata

    names = {ep.name for ep in importlib.metadata.entry_points(group="oslo.config.opts")}
    return sorted(n for n in names if n == "stratus" or n.startswith("stratus."))


def all_opts(extra_namespaces: tuple[str, ...] = ()) -> list[tuple[str | None, list[cfg.Opt]]]:
    """Every option of every installed Stratus namespace, plus ``extra_namespaces``."""
    import importlib.metadata

    result: list[tuple[str | None, list[cfg.Opt]]] = []
    wanted = set(installed_namespaces()) | set(extra_namespaces)
    for ep in importlib.metadata.entry_points(group="oslo.config.opts"):
        if ep.name in wanted:
            result.extend(ep.load()())
    return result


def unknown_sections(conf: cfg.ConfigOpts) -> list[str]:
    """Sections of the files read that no installed part of Stratus has options for (typos)."""
    from stratus.conf.image import store_groups
    from stratus.conf.sample import CORE_NAMESPACES

    known = {getattr(group, "name", group) or "DEFAULT" for group, _ in all_opts(CORE_NAMESPACES)} | {"DEFAULT"}
    with contextlib.suppress(cfg.Error):  # an invalid enabled_stores is reported by validation, naming it
        known |= store_groups(conf)
    return sorted(set(conf.list_all_sections()) - known)
