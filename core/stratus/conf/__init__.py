"""Configuration: one module per option group, each with ``register_opts`` and ``list_opts``.

:func:`build` makes a ``ConfigOpts`` with every core group registered and the files read;
:func:`validate` reads every option once so a wrong value fails at start with a message
naming the option and the file it came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from types import ModuleType

from oslo_config import cfg

from stratus.conf import (
    api,
    clients,
    compute,
    console,
    database,
    default,
    embedded,
    identity,
    image,
    messaging,
    network,
    object_store,
    plugins,
    scheduler,
    service,
    token,
    volume,
)
from stratus.exceptions import ConfigError

MODULES: tuple[ModuleType, ...] = (default, api, database, messaging, plugins, service, identity, token, image,
                                   network, compute, scheduler, volume, object_store, embedded, clients, console)


def register_all(conf: cfg.ConfigOpts) -> cfg.ConfigOpts:
    for module in MODULES:
        module.register_opts(conf)
    return conf


def build(
    config_files: Sequence[str] | None = None,
    args: Sequence[str] = (),
    overrides: dict[str, dict[str, object]] | None = None,
) -> cfg.ConfigOpts:
    """Return a ``ConfigOpts`` with the core groups registered and ``config_files`` read.

    ``config_files`` None means oslo.config's search (``~/.stratus/stratus.conf``,
    ``/etc/stratus/stratus.conf`` ...); an empty list reads no file. ``overrides`` maps
    group (``"DEFAULT"`` for the default group) to option values set on top of the files.

    :raises ConfigError: a file is missing or cannot be parsed.
    """
    conf = register_all(cfg.ConfigOpts())
    try:
        conf(
            args=list(args),
            project="stratus",
            default_config_files=None if config_files is None else list(config_files),
            validate_default_values=True,
        )
    except cfg.ConfigFilesNotFoundError as exc:
        raise ConfigError(f"configuration file not found: {', '.join(exc.config_files)}") from None
    except cfg.ConfigFileParseError as exc:
        raise ConfigError(f"cannot parse configuration file {exc.config_file}: {exc.msg}") from None
    for group, values in (overrides or {}).items():
        for name, value in values.items():
            conf.set_override(name, value, group=None if group == "DEFAULT" else group)
    return conf


_LOCATION_DETAIL = re.compile(r"from LocationInfo\(location=<Locations\.(\w+)[^>]*>, detail='([^']*)'\)")


def _where(conf: cfg.ConfigOpts, name: str, group: str | None) -> str:
    try:
        location = conf.get_location(name, group)
    except cfg.ConfigFileValueError as exc:
        # oslo.config re-reads the bad value to locate it; its message still says where.
        match = _LOCATION_DETAIL.search(str(exc))
        return f" (set in {match.group(2)})" if match and match.group(2) else ""
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return ""
    if location is None:
        return ""
    if location.location in (cfg.Locations.user, cfg.Locations.command_line) and location.detail:
        return f" (set in {location.detail})"
    if location.location is cfg.Locations.set_override:
        return " (set by the program)"
    if location.location is cfg.Locations.environment:
        return f" (from environment {location.detail})"
    return " (its default)"


def _check(conf: cfg.ConfigOpts, name: str, group: str | None) -> str | None:
    label = f"[{group or 'DEFAULT'}] {name}"
    try:
        getattr(conf[group] if group else conf, name)
    except cfg.ConfigFileValueError as exc:
        reason = str(exc)
        if "is not valid: " in reason:
            reason = reason.split("is not valid: ", 1)[1]
        return f"{label}{_where(conf, name, group)}: {reason}"
    except cfg.RequiredOptError:
        return f"{label} is required but not set"
    except (ValueError, cfg.Error) as exc:
        return f"{label}{_where(conf, name, group)}: {exc}"
    return None


def validate(conf: cfg.ConfigOpts) -> None:
    """Read every registered option; raise one :class:`ConfigError` listing every bad one."""
    errors = []
    try:
        volume.backend_groups(conf)  # each enabled backend's group, so its options are checked too
    except (cfg.Error, ValueError) as exc:
        errors.append(f"[volume] enabled_backends: {exc}")
    for key in conf:
        if isinstance(getattr(conf, key, None), cfg.ConfigOpts.GroupAttr):
            for name in conf[key]:
                errors.append(_check(conf, name, key))
        else:
            errors.append(_check(conf, key, None))
    problems = [e for e in errors if e]
    try:
        # oslo.config checks required options only when files are (re)read; options
        # registered since (drivers, plugins) are checked here. No public API does this.
        conf._check_required_opts()
    except cfg.RequiredOptError as exc:
        group = exc.group.name if exc.group else "DEFAULT"
        problems.append(f"[{group}] {exc.opt_name} is required but not set")
    if not problems and any(conf[group].mode == "rest" for group in clients.CLIENTS):
        from stratus.service_auth import ServiceAuth

        try:  # the auth plugin's options exist only once keystoneauth loads the plugin
            ServiceAuth(conf).close()
        except ConfigError as exc:
            problems.append(exc.message)
    if problems:
        files = ", ".join(conf.config_file) or "no configuration file"
        raise ConfigError(f"invalid configuration ({files}):\n  " + "\n  ".join(problems))
