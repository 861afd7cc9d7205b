"""IPAM under real concurrency: threads allocating from one subnet, each in its own
transaction, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime
import ipaddress
import threading

import pytest

from stratus.db import migration
from stratus.db.engine import Database
from stratus.network import errors, ipam, models

NOW = datetime.datetime(2026, 1, 1)


@pytest.fixture
def network_db(conf, db_url):
    conf.set_override("connection", db_url, group="database")
    migration.sync(conf, ["network"])
    db = Database.for_service(conf, "network")
    yield db
    db.dispose()


def make_subnet(db, cidr, pools):
    with db.transaction() as session:
        session.add(models.Network(id="net", project_id="p", name="n", created_at=NOW, updated_at=NOW))
        session.add(models.Subnet(
            id="sub", project_id="p", network_id="net", ip_version=4, cidr=cidr, gateway_ip=None,
            created_at=NOW, updated_at=NOW,
            pools=[models.AllocationPool(position=0, first_ip=first, last_ip=last) for first, last in pools]))


def allocate_concurrently(db, count):
    results, failures, barrier = [], [], threading.Barrier(count)

    def one(i):
        barrier.wait()
        try:
            with db.transaction() as session:
                port = models.Port(id=f"port-{i}", project_id="p", network_id="net",
                                   mac_address=f"fa:16:3e:00:00:{i:02x}", created_at=NOW, updated_at=NOW)
                session.add(port)
                session.flush()
                subnet = session.get(models.Subnet, "sub")
                results.append(ipam.allocate(session, subnet, port, 0))
        except errors.IpAddressGenerationFailure as exc:
            failures.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, failures


def test_parallel_allocations_never_share_an_address(network_db):
    make_subnet(network_db, "10.0.0.0/24", [("10.0.0.2", "10.0.0.254")])
    results, failures = allocate_concurrently(network_db, 16)
    assert not failures and len(results) == 16 and len(set(results)) == 16


def test_a_full_pool_fails_exactly_the_surplus(network_db):
    make_subnet(network_db, "10.0.1.0/24", [("10.0.1.10", "10.0.1.14")])
    results, failures = allocate_concurrently(network_db, 9)
    assert sorted(results, key=ipaddress.ip_address) == [f"10.0.1.{i}" for i in range(10, 15)]
    assert len(failures) == 4
    with network_db.transaction() as session:
        assert session.query(models.IpAllocation).count() == 5
