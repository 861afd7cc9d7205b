"""The plugin manager: loads ``stratus.plugins`` entry points, as configured.

``[plugins] enabled`` (empty: all installed) and ``[plugins] disabled`` select plugins by
entry-point name; a name that is not installed fails at start. ``check_pending()`` makes
a hook implementation with a misspelt name fail at start too. Set
``STRATUS_TRACE_HOOKS=1`` to log every hook call.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
from typing import Any

import pluggy

from stratus.exceptions import ConfigError
from stratus.hooks import PROJECT, specs

LOG = logging.getLogger(__name__)

GROUP = "stratus.plugins"


def installed_plugins() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=GROUP)}


def create_plugin_manager(conf: Any, extra_plugins: dict[str, object] | None = None) -> pluggy.PluginManager:
    """Return a manager with the configured plugins registered and checked.

    ``extra_plugins`` (name -> module or object) are registered as if installed; tests and
    embedders use it. Disabling one by name works the same.

    :raises ConfigError: an enabled/disabled name is not installed, a plugin fails to
        import, or a plugin implements a hook that does not exist.
    """
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(specs)
    available: dict[str, Any] = dict(installed_plugins())
    available.update(extra_plugins or {})
    enabled = list(conf.plugins.enabled)
    disabled = set(conf.plugins.disabled)
    unknown = sorted((set(enabled) | disabled) - set(available))
    if unknown:
        raise ConfigError(
            f"[plugins] names plugins that are not installed: {', '.join(unknown)}; "
            f"installed: {', '.join(sorted(available)) or 'none'}"
        )
    for name in sorted(available):
        if (enabled and name not in enabled) or name in disabled:
            pm.set_blocked(name)
            continue
        plugin = available[name]
        if isinstance(plugin, importlib.metadata.EntryPoint):
            try:
                plugin = plugin.load()
            except Exception as exc:
                dist = plugin.dist.metadata["Name"] if plugin.dist else "unknown"
                raise ConfigError(f"plugin {name!r} from {dist!r} failed to import: {exc}") from exc
        pm.register(plugin, name=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise ConfigError(f"plugin {pm.get_name(exc.plugin)!r}: {exc}") from None
    if os.environ.get("STRATUS_TRACE_HOOKS"):
        pm.trace.root.setwriter(LOG.info)
        pm.enable_tracing()
    pm.hook.stratus_register_opts(conf=conf)
    return pm


def call_safely(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> None:
    """Call a hook whose failures must not reach the caller (notify, shutdown); log them."""
    hook = getattr(pm.hook, hook_name)
    for impl in reversed(hook.get_hookimpls()):
        accepted = {k: v for k, v in kwargs.items() if k in impl.argnames}
        try:
            impl.function(**accepted)
        except Exception:
            LOG.exception("plugin %r failed in %s", impl.plugin_name, hook_name)
