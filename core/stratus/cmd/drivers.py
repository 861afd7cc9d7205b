"""``stratus drivers``: what is installed, and whether what the configuration selects loads."""

from __future__ import annotations

import dataclasses
import json
from typing import TextIO

from oslo_config import cfg

from stratus import loading
from stratus.conf.opts import all_opts
from stratus.conf.types import DriverName
from stratus.hooks.manager import create_plugin_manager
from stratus.interfaces.base import SupportStatus


def list_drivers(out: TextIO, as_json: bool) -> int:
    rows = [info for namespace in loading.NAMESPACES for info in loading.list_installed(namespace)]
    if as_json:
        json.dump([dataclasses.asdict(info) for info in rows], out, indent=2)
        out.write("\n")
        return 0
    for namespace in loading.NAMESPACES:
        out.write(f"{namespace}\n")
        infos = [i for i in rows if i.namespace == namespace]
        if not infos:
            out.write("  (none installed)\n")
        for info in infos:
            dist = f"{info.distribution} {info.version}".strip()
            if info.error:
                out.write(f"  {info.name:<20} {dist:<28} BROKEN: {info.error}\n")
            else:
                caps = ", ".join(info.capabilities) or "-"
                out.write(f"  {info.name:<20} {dist:<28} {info.status:<13} {caps}\n")
    return 0


@dataclasses.dataclass(frozen=True)
class Selection:
    """One driver the configuration selects, or the reason its option could not be read."""

    label: str
    namespace: str
    name: str | None
    error: str | None = None
    #: a volume backend's section: the driver is made for it and set up (its storage checked)
    backend: str | None = None


def selected_drivers(conf: cfg.ConfigOpts) -> list[Selection]:
    """Every driver the configuration selects.

    Driver-selecting options are those of type :class:`DriverName` (or lists of them) in
    any installed ``oslo.config.opts`` namespace of Stratus; they are registered on
    ``conf`` if they are not yet.
    """
    from stratus.conf.volume import SAMPLE_ONLY_GROUPS, backend_groups

    selected = []
    for group, opts in all_opts():
        group_name = getattr(group, "name", group) or "DEFAULT"
        if group_name in SAMPLE_ONLY_GROUPS:
            continue  # the sample's example backend: the enabled backends are listed below
        for opt in opts:
            driver_type = opt.type if isinstance(opt.type, DriverName) else getattr(opt.type, "item_type", None)
            if not isinstance(driver_type, DriverName):
                continue
            conf.register_opt(opt, group=None if group_name == "DEFAULT" else group_name)
            label = f"[{group_name}] {opt.name}"
            try:
                value = getattr(conf if group_name == "DEFAULT" else conf[group_name], opt.dest)
            except (cfg.ConfigFileValueError, ValueError) as exc:
                reason = str(exc).split("is not valid: ", 1)[-1]
                selected.append(Selection(label, driver_type.namespace, None, reason))
                continue
            names = value if isinstance(value, list) else [value] if value else []
            selected += [Selection(label, driver_type.namespace, n) for n in names]
    try:
        backends = backend_groups(conf)
    except (cfg.ConfigFileValueError, ValueError) as exc:
        return [*selected, Selection("[volume] enabled_backends", "stratus.volume", None, str(exc))]
    for backend in backends:
        label = f"[{backend}] volume_driver"
        try:
            selected.append(Selection(label, "stratus.volume", conf[backend].volume_driver, backend=backend))
        except (cfg.ConfigFileValueError, ValueError) as exc:
            selected.append(Selection(label, "stratus.volume", None, str(exc).split("is not valid: ", 1)[-1]))
    return selected


def check_drivers(conf: cfg.ConfigOpts, out: TextIO) -> int:
    """Load every selected driver and every enabled plugin; report each. 1 if any fails."""
    failures = 0
    selected = selected_drivers(conf)
    if not selected:
        out.write("no driver is selected by the configuration\n")
    for sel in selected:
        if sel.error is not None:
            failures += 1
            out.write(f"FAIL  {sel.label}: {sel.error}\n")
            continue
        try:
            if sel.backend is None:
                driver = loading.load_driver(sel.namespace, sel.name, conf)
            else:
                driver = loading.load_driver(sel.namespace, sel.name, conf, backend_name=sel.backend)
                driver.setup()
        except Exception as exc:
            failures += 1
            out.write(f"FAIL  {sel.label} = {sel.name}: {exc}\n")
            continue
        caps = ", ".join(f.name for f in driver.CAPABILITIES if f in driver.capabilities and f.name) or "-"
        out.write(f"ok    {sel.label} = {sel.name} ({sel.namespace}; {SupportStatus(driver.status)}; {caps})\n")
    try:
        plugins = create_plugin_manager(conf)
    except Exception as exc:
        out.write(f"FAIL  [plugins]: {exc}\n")
        return 1
    for name, _plugin in sorted(plugins.list_name_plugin()):
        out.write(f"ok    plugin {name}\n")
    return 1 if failures else 0
