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
    with contextlib.suppress(cfg.Error):
        known |= set(conf.volume.enabled_backends)
    return sorted(set(conf.list_all_sections()) - known)


def unknown_options(conf: cfg.ConfigOpts) -> list[tuple[str, str]]:
    """``(section, option)`` set in the files read that the section's options do not include
    (typos such as ``hypervisr``), in the sections Stratus knows; unknown sections are
    :func:`unknown_sections`' to report."""
    from stratus.conf.clients import CREDENTIALS, auth_plugin_opt_names
    from stratus.conf.image import STORE_OPTS, store_groups
    from stratus.conf.sample import CORE_NAMESPACES
    from stratus.conf.volume import BACKEND_OPTS

    known: dict[str, set[str]] = {}
    for group, opts in all_opts(CORE_NAMESPACES):
        names = known.setdefault(getattr(group, "name", group) or "DEFAULT", set())
        for opt in opts:
            names.update({opt.dest, opt.name, *(d.name for d in opt.deprecated_opts if d.name)})
    known.setdefault(CREDENTIALS, set()).update(auth_plugin_opt_names())  # whichever auth_type it names
    with contextlib.suppress(cfg.Error):
        store_names = {o.dest for o in STORE_OPTS} | _driver_opts("stratus.image_store", "store_opts")
        for group in store_groups(conf):  # each image store's group takes its driver's options
            known.setdefault(group, set()).update(store_names)
    with contextlib.suppress(cfg.Error):
        backend_names = {o.dest for o in BACKEND_OPTS} | _driver_opts("stratus.volume", "backend_opts")
        for group in conf.volume.enabled_backends:  # each volume backend's group takes its driver's options
            known.setdefault(group, set()).update(backend_names)
    found = []
    for path in conf.config_file or []:
        sections: dict[str, dict[str, list[str]]] = {}
        with contextlib.suppress(OSError, cfg.Error):
            cfg.ConfigParser(path, sections).parse()
        for section, options in sections.items():
            if section in known:
                found += [(section, name) for name in options if name.replace("-", "_") not in known[section]]
    return sorted(set(found))


def _driver_opts(namespace: str, method: str) -> set[str]:
    """The options any installed driver of ``namespace`` reads from its own group (what the
    driver class's ``method`` lists: image stores' ``store_opts``, volume backends' ``backend_opts``)."""
    from stratus import loading
    from stratus.exceptions import DriverError

    names: set[str] = set()
    for driver in loading.installed_names(namespace):
        with contextlib.suppress(DriverError):
            names |= {opt.dest for opt in getattr(loading.load_driver_class(namespace, driver), method)()}
    return names
