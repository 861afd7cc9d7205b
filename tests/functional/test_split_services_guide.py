"""docs/split-services.md, followed literally: identity, image, network, block storage, object
storage and compute each on a PostgreSQL database of its own, each API in a process of its own, the services reaching
one another only over their REST APIs (RabbitMQ between compute's processes).

As test_multi_host_guide: ``sh`` blocks run in bash, ``sh service`` blocks are started and
left running until their "serving" line, ``ini`` blocks are written (``file=NAME``, else
``$STRATUS_CONF``), the ``yaml`` block is the clouds.yaml, and ``once-per-site`` blocks are
done by the test run itself (six throwaway databases).
"""

from __future__ import annotations

import os
import re
import sys

import pytest
import sqlalchemy as sa

from tests.conftest import PG_ADMIN_URL, _throwaway_database
from tests.fixtures.rabbitmq import free_port
from tests.functional.accounts import connect
from tests.functional.test_multi_host_guide import BLOCK, Service, follow

GUIDE = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "split-services.md")
DATABASES = ("keystone", "glance", "neutron", "cinder", "nova", "swift")
#: a table each service owns: it must be in that service's database and in no other
OWN_TABLE = {"keystone": "projects", "glance": "images", "neutron": "ports", "cinder": "volumes",
             "nova": "instances", "swift": "object_objects"}


def blocks() -> list[tuple[str, str, str]]:
    with open(GUIDE) as f:
        return [(lang, tag.strip(), body) for lang, tag, body in BLOCK.findall(f.read())]


def test_the_guide_blocks_are_what_the_test_expects():
    kinds = [(lang, tag) for lang, tag, _ in blocks()]
    assert kinds.count(("sh", "service")) == 12 and ("yaml", "") in kinds and ("ini", "") in kinds
    assert {tag for lang, tag in kinds if lang == "ini"} == {"", "file=identity.conf", "file=image.conf",
                                                            "file=network.conf", "file=volume.conf",
                                                            "file=object_store.conf", "file=compute.conf"}


@pytest.fixture
def databases():
    made = [_throwaway_database(PG_ADMIN_URL, "postgresql") for _ in DATABASES]
    try:
        yield dict(zip(DATABASES, [next(m) for m in made], strict=True))
    finally:
        for m in made:
            m.close()


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def compute_proxies_reach_the_other_services(clouds_yaml) -> None:
    """Nova's proxies (before 2.36) answered by the image and network APIs of the other
    processes, over REST as the caller: reads, and a security group made and removed."""
    conn = connect(str(clouds_yaml))
    try:
        old = {"OpenStack-API-Version": "compute 2.1"}
        networks = conn.compute.get("/os-networks", headers=old).json()["networks"]
        assert "demo-net" in [n["label"] for n in networks], networks
        base = conn.image.find_image("base")
        assert conn.compute.get(f"/images/{base.id}", headers=old).json()["image"]["name"] == "base"
        made = conn.compute.post("/os-security-groups", headers=old, json={"security_group": {
            "name": "proxied", "description": "made through compute"}})
        assert made.status_code == 200, made.text
        group = made.json()["security_group"]
        assert conn.network.get_security_group(group["id"]).name == "proxied"
        assert conn.compute.delete(f"/os-security-groups/{group['id']}", headers=old).status_code == 202
        assert conn.network.find_security_group(group["id"]) is None
        refused = conn.compute.get("/os-networks/no-such-network", headers=old)
        assert refused.status_code == 404 and "itemNotFound" in refused.json(), refused.text
    finally:
        conn.close()


@pytest.mark.postgresql
@pytest.mark.rabbitmq
@pytest.mark.slow
def test_the_split_services_guide_works_as_written(tmp_path, databases, rabbit_vhost_url):
    ports = {name: free_port() for name in ("identity", "image", "network", "volume", "object", "compute")}
    values = {
        "<state directory>": str(tmp_path / "state"),
        "<broker url, e.g. amqp://stratus:secret@controller:5672/stratus>": rabbit_vhost_url,
        "<controller address>": "127.0.0.1",
        "<service password>": "service-pw",
        "<admin password>": "guide-pw",
        "<image directory>": str(tmp_path / "images"),
        "<object directory>": str(tmp_path / "objects"),
        **{f"<{name} port>": str(port) for name, port in ports.items()},
        **{f"<{db} database url>": url for db, url in databases.items()},
    }
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, STRATUS_CONF=str(tmp_path / "stratus.conf"), ADMIN_PASSWORD="guide-pw",
               SERVICE_PASSWORD="service-pw", OS_CLIENT_CONFIG_FILE=str(tmp_path / "clouds.yaml"),
               PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}")
    services: list[Service] = []
    outputs = []
    cwd = os.getcwd()
    os.chdir(tmp_path)  # the guide names the per-service files relative to where it runs
    try:
        follow(blocks(), values, env, tmp_path, services, outputs)
        objects, last = outputs[-2], outputs[-1]
        with open("/etc/hostname") as f:  # listed by the Swift API, then read back through S3
            assert objects.splitlines()[-2:] == ["hostname", f.read().rstrip("\n")], objects
        lines = last.splitlines()
        assert re.search(r"\| status\s+\| active", last) and re.search(r"\| size\s+\| [1-9]", last), last
        assert re.search(r"\| status\s+\| ACTIVE", last) and "demo.small" in last, last
        assert re.search(r"host\s+\| compute[12]", last) and "demo-net=10.20.0." in last, last
        assert "\nin-use\n" in last, f"the volume was not attached: {last}"
        assert lines[-1].strip() == "0", f"the deleted server's port is left: {last}"
        compute_proxies_reach_the_other_services(tmp_path / "clouds.yaml")
    finally:
        os.chdir(cwd)
        for service in reversed(services):
            assert service.stop() == 0, "".join(service.lines)
    # each service kept to its own database; no process opened a default one of its own
    found = {db: tables(url) for db, url in databases.items()}
    for db, table in OWN_TABLE.items():
        assert table in found[db], (db, sorted(found[db]))
        assert all(table not in found[other] for other in DATABASES if other != db), (table, found)
    assert not list((tmp_path / "state").glob("*.sqlite")), "a process fell back to a local SQLite database"
