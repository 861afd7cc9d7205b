"""IPAM under real concurrency: threads allocating from one subnet, each in its own
transaction, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import ipaddress

from stratus.network import errors, ipam, models
from tests.fixtures.concurrency import run_together
from tests.unit.network.conftest import NOW


def make_subnet(db, cidr, pools):
    with db.transaction() as session:
        session.add(models.Network(id="net", project_id="p", name="n", created_at=NOW, updated_at=NOW))
        session.add(models.Subnet(
            id="sub", project_id="p", network_id="net", ip_version=4, cidr=cidr, gateway_ip=None,
            created_at=NOW, updated_at=NOW,
            pools=[models.AllocationPool(position=0, first_ip=first, last_ip=last) for first, last in pools]))


def allocate_concurrently(db, count):
    def one(i):
        with db.transaction() as session:
            port = models.Port(id=f"port-{i}", project_id="p", network_id="net",
                               mac_address=f"fa:16:3e:00:00:{i:02x}", created_at=NOW, updated_at=NOW)
            session.add(port)
            session.flush()
            return ipam.allocate(session, session.get(models.Subnet, "sub"), port, 0)

    results = run_together(one, count)
    failures = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(f, errors.IpAddressGenerationFailure) for f in failures), failures
    return [r for r in results if isinstance(r, str)], failures


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
