"""``/v3/domains/{id}/config[/{group}[/{option}]]`` and ``/v3/domains/config[/{group}[/{option}]]/default``:
a domain's own configuration, as Keystone serves it (see :mod:`stratus.identity.domain_config`)."""

from __future__ import annotations

from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import NotFound
from stratus.identity import domain_config, models
from stratus.identity.service import IdentityService

BODY = {"type": "object", "required": ["config"], "properties": {"config": {"type": "object"}}}
OBJECT = {"type": "object"}


class _Resource:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    def _domain(self, session: Any, domain_id: str) -> None:
        if session.get(models.Domain, domain_id) is None:
            raise NotFound(f"Could not find domain: {domain_id}.")

    def _show(self, req: falcon.Request, resp: falcon.Response, domain_id: str, group: str | None,
              option: str | None) -> None:
        enforce(req, self.policy, "identity:get_domain_config")
        with self.identity.db.reading() as session:
            self._domain(session, domain_id)
            config = domain_config.read(session, domain_id)
        resp.media = {"config": domain_config.select(config, domain_id, group, option)}

    def _update(self, req: falcon.Request, resp: falcon.Response, domain_id: str, group: str | None,
                option: str | None) -> None:
        enforce(req, self.policy, "identity:update_domain_config")
        given = req.context.body["config"]
        config = {group: given} if option is not None and group is not None else given
        domain_config.check(config, group, option)
        with self.identity.db.transaction() as session:
            self._domain(session, domain_id)
            current = domain_config.read(session, domain_id, sensitive=True)
            if not current:
                raise NotFound(f"Could not find domain config: domain {domain_id} has none to update.")
            if group is not None and group not in current:
                raise NotFound(f"Could not find domain config: no group {group} for domain {domain_id}.")
            if option is not None and option not in current.get(group, {}):
                raise NotFound(f"Could not find domain config: no option {option} in group {group} for domain "
                               f"{domain_id}.")
            domain_config.write(session, domain_id, config, replace=False)
            resp.media = {"config": domain_config.read(session, domain_id)}

    def _delete(self, req: falcon.Request, resp: falcon.Response, domain_id: str, group: str | None,
                option: str | None) -> None:
        enforce(req, self.policy, "identity:delete_domain_config")
        with self.identity.db.transaction() as session:
            self._domain(session, domain_id)
            domain_config.delete(session, domain_id, group, option)
        resp.status = 204


class DomainConfig(_Resource):
    @schema("Create or replace a domain's configuration", request=BODY, responses={200: OBJECT, 201: OBJECT})
    def on_put(self, req: falcon.Request, resp: falcon.Response, domain_id: str) -> None:
        enforce(req, self.policy, "identity:create_domain_config")
        config = req.context.body["config"]
        domain_config.check(config)
        with self.identity.db.transaction() as session:
            self._domain(session, domain_id)
            existed = bool(domain_config.read(session, domain_id, sensitive=True))
            domain_config.write(session, domain_id, config, replace=True)
            resp.media = {"config": domain_config.read(session, domain_id)}
        resp.status = 200 if existed else 201

    @schema("Show a domain's configuration (sensitive options left out)", responses={200: OBJECT})
    def on_get(self, req: falcon.Request, resp: falcon.Response, domain_id: str) -> None:
        self._show(req, resp, domain_id, None, None)

    on_head = on_get

    @schema("Update options of a domain's configuration", request=BODY, responses={200: OBJECT})
    def on_patch(self, req: falcon.Request, resp: falcon.Response, domain_id: str) -> None:
        self._update(req, resp, domain_id, None, None)

    @schema("Delete a domain's configuration", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, domain_id: str) -> None:
        self._delete(req, resp, domain_id, None, None)


class DomainConfigGroup(_Resource):
    @schema("Show one group of a domain's configuration", responses={200: OBJECT})
    def on_get(self, req: falcon.Request, resp: falcon.Response, domain_id: str, group: str) -> None:
        self._show(req, resp, domain_id, group, None)

    on_head = on_get

    @schema("Update options of one group", request=BODY, responses={200: OBJECT})
    def on_patch(self, req: falcon.Request, resp: falcon.Response, domain_id: str, group: str) -> None:
        self._update(req, resp, domain_id, group, None)

    @schema("Delete one group of a domain's configuration", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, domain_id: str, group: str) -> None:
        self._delete(req, resp, domain_id, group, None)


class DomainConfigOption(_Resource):
    @schema("Show one option of a domain's configuration", responses={200: OBJECT})
    def on_get(self, req: falcon.Request, resp: falcon.Response, domain_id: str, group: str, option: str) -> None:
        self._show(req, resp, domain_id, group, option)

    on_head = on_get

    @schema("Update one option", request=BODY, responses={200: OBJECT})
    def on_patch(self, req: falcon.Request, resp: falcon.Response, domain_id: str, group: str, option: str) -> None:
        self._update(req, resp, domain_id, group, option)

    @schema("Delete one option of a domain's configuration", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, domain_id: str, group: str, option: str) -> None:
        self._delete(req, resp, domain_id, group, option)


class DefaultConfig:
    """``/v3/domains/config[/{group}[/{option}]]/default``: what a domain gets when it sets nothing."""

    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("The cloud's own values of what a domain may configure", responses={200: OBJECT})
    def on_get(self, req: falcon.Request, resp: falcon.Response, group: str | None = None,
               option: str | None = None) -> None:
        enforce(req, self.policy, "identity:get_domain_config_default")
        if group is not None and group not in domain_config.WHITELISTED:
            raise domain_config.InvalidDomainConfig(f"Invalid domain specific configuration: Group {group} is not "
                                                    "supported for domain specific configurations.")
        if option is not None and option not in domain_config.WHITELISTED[group or ""]:
            raise domain_config.InvalidDomainConfig(f"Reading the default for option {option} in group {group} is "
                                                    "not supported.")
        config = domain_config.defaults(self.identity.conf, [group] if group else domain_config.WHITELISTED)
        if option is not None:
            resp.media = {"config": {option: config[group][option]}}
        elif group is not None:
            resp.media = {"config": {group: config[group]}}
        else:
            resp.media = {"config": config}


def add_routes(app: Any, identity: IdentityService, policy: Policy) -> None:
    default = DefaultConfig(identity, policy)
    app.add_route("/v3/domains/config/default", default)
    app.add_route("/v3/domains/config/{group}/default", default)
    app.add_route("/v3/domains/config/{group}/{option}/default", default)
    app.add_route("/v3/domains/{domain_id}/config", DomainConfig(identity, policy))
    app.add_route("/v3/domains/{domain_id}/config/{group}", DomainConfigGroup(identity, policy))
    app.add_route("/v3/domains/{domain_id}/config/{group}/{option}", DomainConfigOption(identity, policy))
