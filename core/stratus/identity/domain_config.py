"""Domain-specific configuration (Keystone's): a domain may keep its users and groups in a
backend of its own — ``[identity] driver`` and that backend's ``[ldap]`` settings, given
through ``/v3/domains/{id}/config`` and stored in the identity database.

Only the groups and options below may be set (Keystone's rule: a domain cannot reconfigure
anything else of the cloud); ``[ldap] password`` is sensitive: stored, used, never shown.
With ``[identity] domain_specific_drivers_enabled`` a domain with a ``driver`` gets that
backend (:mod:`stratus.identity.domain_backends`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from stratus.exceptions import Forbidden, NotFound
from stratus.identity import models

#: options a domain may set, by group; sensitive ones are kept apart (never shown)
WHITELISTED: dict[str, tuple[str, ...]] = {
    "identity": ("driver", "list_limit"),
    "ldap": ("url", "user", "suffix", "query_scope", "page_size", "connection_timeout", "user_tree_dn",
             "user_filter", "user_objectclass", "user_id_attribute", "user_name_attribute", "user_mail_attribute",
             "user_description_attribute", "user_enabled_attribute", "user_enabled_mask", "user_enabled_invert",
             "group_tree_dn", "group_filter", "group_objectclass", "group_id_attribute", "group_name_attribute",
             "group_member_attribute", "group_description_attribute", "use_tls", "tls_cacertfile", "tls_req_cert"),
}
SENSITIVE: dict[str, tuple[str, ...]] = {"identity": (), "ldap": ("password",)}

Config = dict[str, dict[str, Any]]


class InvalidDomainConfig(Forbidden):
    """Keystone answers a configuration it will not take with 403."""


def check(config: Config, group: str | None = None, option: str | None = None) -> None:
    """:raises InvalidDomainConfig: empty, or naming a group or option a domain may not set."""
    if not config:
        raise InvalidDomainConfig("Invalid domain specific configuration: config is empty.")
    for name, options in config.items():
        if name not in WHITELISTED:
            raise InvalidDomainConfig(f"Invalid domain specific configuration: Group {name} is not supported for "
                                      "domain specific configurations.")
        if group is not None and name != group:
            raise InvalidDomainConfig(f"Invalid domain specific configuration: Trying to update group {group}, so "
                                      f"that, and only that, group must be specified in the config.")
        if not isinstance(options, dict) or not options:
            raise InvalidDomainConfig(f"Invalid domain specific configuration: group {name} must map options to "
                                      "values.")
        for key in options:
            if key not in WHITELISTED[name] and key not in SENSITIVE[name]:
                raise InvalidDomainConfig(f"Invalid domain specific configuration: Option {key} in group {name} is "
                                          "not supported for domain specific configurations.")
            if option is not None and key != option:
                raise InvalidDomainConfig(f"Invalid domain specific configuration: Trying to update option {option} "
                                          f"in group {group}, so that, and only that, option must be specified in "
                                          "the config.")


def _rows(session: Any, domain_id: str) -> list[models.DomainConfig]:
    return list(session.scalars(sa.select(models.DomainConfig).where(models.DomainConfig.domain_id == domain_id)))


def read(session: Any, domain_id: str, sensitive: bool = False) -> Config:
    """The domain's configuration (with the sensitive options only when asked)."""
    config: Config = {}
    for row in _rows(session, domain_id):
        if sensitive or not row.sensitive:
            config.setdefault(row.group, {})[row.option] = row.value
    return config


def write(session: Any, domain_id: str, config: Config, replace: bool) -> None:
    """Store ``config`` (already checked) for the domain, over its whole configuration
    (``replace``) or over just the options named."""
    if replace:
        session.execute(sa.delete(models.DomainConfig).where(models.DomainConfig.domain_id == domain_id))
        session.flush()
    for group, options in config.items():
        for option, value in options.items():
            row = session.get(models.DomainConfig, (domain_id, group, option))
            if row is None:
                session.add(models.DomainConfig(domain_id=domain_id, group=group, option=option, value=value,
                                                sensitive=option in SENSITIVE[group]))
            else:
                row.value = value
    session.flush()


def delete(session: Any, domain_id: str, group: str | None = None, option: str | None = None) -> None:
    """:raises NotFound: nothing of the kind is set."""
    C = models.DomainConfig
    query = sa.delete(C).where(C.domain_id == domain_id)
    if group is not None:
        query = query.where(C.group == group)
    if option is not None:
        query = query.where(C.option == option)
    if not session.execute(query).rowcount:
        raise NotFound(_missing(domain_id, group, option))


def _missing(domain_id: str, group: str | None, option: str | None) -> str:
    what = f"option {option} in group {group}" if option else f"group {group}" if group else "configuration"
    return f"Could not find domain config: no {what} for domain {domain_id}."


def select(config: Config, domain_id: str, group: str | None, option: str | None) -> Config | dict[str, Any]:
    """What ``GET .../config[/{group}[/{option}]]`` shows. :raises NotFound: not set."""
    if group is None:
        if not config:
            raise NotFound(_missing(domain_id, None, None))
        return config
    if group not in config:
        raise NotFound(_missing(domain_id, group, None))
    if option is None:
        return {group: config[group]}
    if option not in config[group]:
        raise NotFound(_missing(domain_id, group, option))
    return {option: config[group][option]}


def defaults(conf: Any, groups: Iterable[str] = tuple(WHITELISTED)) -> Config:
    """What the cloud's own configuration says for each option a domain may set: the value
    set here, else the default of the installed driver declaring it, else ``None``."""
    config: Config = {}
    for group in groups:
        registered, declared = _group(conf, group), _declared(group)
        config[group] = {name: getattr(registered, name) if registered is not None and hasattr(registered, name)
                         else declared.get(name) for name in WHITELISTED[group]}
    return config


def _group(conf: Any, group: str) -> Any:
    try:
        return conf[group]
    except Exception:  # oslo.config: a group no loaded driver registered
        return None


def _declared(group: str) -> dict[str, Any]:
    """The defaults of ``group``'s options as an installed auth driver declares them."""
    from stratus import loading
    from stratus.exceptions import DriverError

    for name in loading.installed_names("stratus.auth"):
        try:
            cls = loading.load_driver_class("stratus.auth", name)
        except DriverError:
            continue
        for declared_group, opts in cls.list_opts():
            if declared_group == group:
                return {opt.dest: opt.default for opt in opts}
    return {}
