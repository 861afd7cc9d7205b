"""``stratus manage bootstrap``: Keystone's default roles and an honest catalog."""

from __future__ import annotations

import sqlalchemy as sa

from stratus.db import migration
from stratus.identity import models
from stratus.identity.bootstrap import bootstrap
from stratus.identity.keys import KeyRepository
from stratus.identity.service import IdentityService

URL = "http://cloud.example:8770"


def _identity(conf):
    KeyRepository(conf.token.key_repository, conf.token.max_active_keys).setup()
    migration.sync(conf, ["identity"])
    return IdentityService(conf)


def test_bootstrap_creates_keystones_default_roles_and_implications(conf):
    identity = _identity(conf)
    try:
        bootstrap(identity, "secret", URL, "RegionOne")
        bootstrap(identity, "secret", URL, "RegionOne")  # idempotent
        with identity.db.transaction() as session:
            roles = {r.id: r.name for r in session.scalars(sa.select(models.Role))}
            implied = {(roles[i.prior_role_id], roles[i.implied_role_id])
                       for i in session.scalars(sa.select(models.ImpliedRole))}
    finally:
        identity.close()
    assert sorted(roles.values()) == ["admin", "manager", "member", "reader", "service"]
    assert implied == {("admin", "manager"), ("manager", "member"), ("member", "reader")}


def test_catalog_lists_the_served_apis_and_keeps_an_operators_own_endpoints(conf):
    identity = _identity(conf)
    try:
        with identity.db.transaction() as session:
            session.add(models.Region(id="RegionOne", description=""))
            session.add(models.Service(id="external-dns", type="dns", name="designate", enabled=True))
            session.flush()
            session.add(models.Endpoint(id="e2", service_id="external-dns", interface="public",
                                        region_id="RegionOne", url="http://dns.example/v2", enabled=True))
        bootstrap(identity, "secret", URL, "RegionOne")
        bootstrap(identity, "secret", URL, "RegionOne")  # a second bootstrap adds nothing twice
        with identity.db.transaction() as session:
            services = sorted(s.type for s in session.scalars(sa.select(models.Service)))
            endpoints = {(e.id if e.id == "e2" else e.url) for e in session.scalars(sa.select(models.Endpoint))}
            count = session.scalar(sa.select(sa.func.count()).select_from(models.Endpoint))
    finally:
        identity.close()
    assert services == sorted(["identity", "compute", "image", "block-storage", "volumev3", "network",
                               "object-store", "dns"])
    assert "e2" in endpoints and f"{URL}/object-store/v1/AUTH_$(project_id)s" in endpoints
    assert count == 1 + 2 * 7  # public and internal of each served API, plus the operator's
