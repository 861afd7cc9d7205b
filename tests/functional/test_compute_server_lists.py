"""Server lists as Nova orders and pages them: repeated sort keys, NULLs in a sort column,
pages no longer than [compute] max_limit, markers outside the filtered set, and the
openstacksdk following servers_links."""

from __future__ import annotations

import pytest
import requests
from openstack import exceptions as sdk_exceptions

from tests.functional.accounts import connect
from tests.functional.conftest import start_cloud
from tests.functional.test_compute_servers import boot, image

NAMES = ["p-a", "p-b", "p-c", "p-d", "p-e"]


@pytest.fixture(scope="module")
def listed(tmp_path_factory):
    """A cloud paging by 3, with five ACTIVE servers over two hosts and one ERROR server on none."""
    cloud = start_cloud(tmp_path_factory, "[compute]\nmax_limit = 3\nsimulated_hosts = 2\n")
    conn = connect(cloud.clouds_yaml)
    try:
        image(conn)
        servers = {name: boot(conn, name) for name in NAMES}
        conn.compute.create_flavor(name="no-host-has-this", ram=64, vcpus=1, disk=100000)
        failed = boot(conn, "p-error", flavor="no-host-has-this", wait=False)
        with pytest.raises(sdk_exceptions.ResourceFailure):
            conn.compute.wait_for_server(failed, wait=60, interval=0.3)
        servers["p-error"] = conn.compute.get_server(failed.id)
        yield cloud, conn, servers
    finally:
        conn.close()
        cloud.stop()


def get(cloud, conn, path, version="2.1"):
    return requests.get(path if path.startswith("http") else f"{cloud.base_url}/compute/v2.1{path}", timeout=30,
                        headers={"X-Auth-Token": conn.session.get_token(),
                                 "OpenStack-API-Version": f"compute {version}"})


def every_page(cloud, conn, path):
    """Each page's servers, following servers_links until there is none."""
    pages = []
    while path:
        answer = get(cloud, conn, path, "2.73")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append(body["servers"])
        path = body["servers_links"][0]["href"] if "servers_links" in body else None
        assert len(pages) < 10
    return pages


def test_pages_are_capped_by_max_limit_and_linked(listed):
    cloud, conn, servers = listed
    pages = every_page(cloud, conn, "/servers?sort_key=display_name&sort_dir=asc")
    assert [len(p) for p in pages] == [3, 3]
    assert [s["name"] for p in pages for s in p] == sorted(servers)
    pages = every_page(cloud, conn, "/servers?limit=100")  # a limit above max_limit is max_limit
    assert [len(p) for p in pages] == [3, 3]
    # created_at desc by default, then the uuid: the newest first
    assert pages[0][0]["id"] == servers["p-error"].id
    assert len({s.id for s in conn.compute.servers()}) == 6  # openstacksdk follows the links


def test_sort_keys_repeat_and_nulls_sort_first(listed):
    cloud, conn, servers = listed
    shown = [s for p in every_page(cloud, conn, "/servers/detail?sort_key=host&sort_key=display_name&sort_dir=asc"
                                                "&sort_dir=desc&limit=2") for s in p]
    hosts = {s.name: conn.compute.get_server(s.id).compute_host for s in servers.values()}
    expected = sorted(NAMES, key=lambda n: (hosts[n], "".join(chr(255 - ord(c)) for c in n)))
    assert [s["name"] for s in shown] == ["p-error", *expected]
    assert shown[0]["OS-EXT-SRV-ATTR:host"] is None
    backwards = [s for p in every_page(cloud, conn, "/servers?sort_key=host&sort_dir=desc&limit=4") for s in p]
    assert backwards[-1]["name"] == "p-error" and len(backwards) == 6
    # directions missing follow the first one
    both_desc = [s["name"] for p in every_page(cloud, conn, "/servers?sort_key=display_name&sort_dir=desc"
                                                            "&sort_key=uuid&limit=5") for s in p]
    assert both_desc == sorted(servers, reverse=True)


def test_filters_page_and_markers_may_lie_outside_them(listed):
    cloud, conn, servers = listed
    pages = every_page(cloud, conn, "/servers?name=^p-[bde]$&sort_key=display_name&sort_dir=asc&limit=1")
    assert [[s["name"] for s in p] for p in pages] == [["p-b"], ["p-d"], ["p-e"]]
    after_c = get(cloud, conn, f"/servers?name=^p-[bde]$&sort_key=display_name&sort_dir=asc"
                               f"&marker={servers['p-c'].id}").json()
    assert [s["name"] for s in after_c["servers"]] == ["p-d", "p-e"] and "servers_links" not in after_c
    errors = get(cloud, conn, "/servers?status=ERROR").json()["servers"]
    assert [s["name"] for s in errors] == ["p-error"]


@pytest.mark.parametrize(("query", "words"), [
    ("marker=6f0e0a8c-0000-4000-8000-000000000000", "marker [6f0e0a8c-0000-4000-8000-000000000000] not found"),
    ("sort_key=display_name&sort_dir=asc&sort_dir=desc", "Sort direction size exceeds sort key size"),
    ("sort_key=password", "Invalid sort_key password"),
    ("sort_dir=sideways&sort_key=uuid", "sideways"),
    ("limit=-1", "limit"),
    ("limit=many", "limit"),
])
def test_bad_list_parameters_are_400_naming_them(listed, query, words):
    cloud, conn, _ = listed
    answer = get(cloud, conn, f"/servers?{query}")
    assert answer.status_code == 400 and words in answer.json()["badRequest"]["message"], answer.text
