"""Networking behaviour real clients trip on (the conformance issue): bulk creates, Neutron's
converters, lists longer than one page, router interfaces whose address changed, subnet
inputs, tags, routers' static routes, subnet pools and address scopes."""

from __future__ import annotations

import concurrent.futures
import json
import sqlite3

from tests.functional.accounts import member_of_new_project, neutron
from tests.functional.servers import openstack


def test_bulk_creates_make_all_or_nothing(cloud, conn):
    made = neutron(cloud, conn, "POST", "/networks", json={"networks": [{"name": "bulk-a"}, {"name": "bulk-b"}]})
    assert made.status_code == 201, made.text
    networks = made.json()["networks"]
    assert [n["name"] for n in networks] == ["bulk-a", "bulk-b"]
    subnets = neutron(cloud, conn, "POST", "/subnets", json={"subnets": [
        {"network_id": networks[0]["id"], "cidr": "10.80.0.0/24", "ip_version": 4},
        {"network_id": networks[1]["id"], "cidr": "10.81.0.0/24", "ip_version": "4"}]})
    assert subnets.status_code == 201 and len(subnets.json()["subnets"]) == 2
    ports = neutron(cloud, conn, "POST", "/ports", json={"ports": [{"network_id": n["id"]} for n in networks]})
    assert ports.status_code == 201 and len(ports.json()["ports"]) == 2
    # one bad item: nothing of the request is made
    before = len(neutron(cloud, conn, "GET", "/networks").json()["networks"])
    refused = neutron(cloud, conn, "POST", "/networks", json={"networks": [{"name": "bulk-c"}, {"mtu": 1}]})
    assert refused.status_code == 400 and "mtu" in refused.text
    assert len(neutron(cloud, conn, "GET", "/networks").json()["networks"]) == before
    overlapping = neutron(cloud, conn, "POST", "/subnets", json={"subnets": [
        {"network_id": networks[0]["id"], "cidr": "10.82.0.0/24", "ip_version": 4},
        {"network_id": networks[0]["id"], "cidr": "10.82.0.0/25", "ip_version": 4}]})
    assert overlapping.status_code == 400
    assert [s["cidr"] for s in conn.network.subnets(network_id=networks[0]["id"])] == ["10.80.0.0/24"]
    for port in ports.json()["ports"]:
        conn.network.delete_port(port["id"])
    for network in networks:
        conn.network.delete_network(network["id"])


def test_numbers_may_come_as_strings_as_neutrons_converters_take_them(cloud, conn):
    made = neutron(cloud, conn, "POST", "/networks", json={"network": {"name": "stringly", "mtu": "1400"}})
    assert made.status_code == 201 and made.json()["network"]["mtu"] == 1400
    too_small = neutron(cloud, conn, "PUT", f"/networks/{made.json()['network']['id']}",
                        json={"network": {"mtu": "10"}})
    assert too_small.status_code == 400 and "mtu" in too_small.text
    group = conn.network.create_security_group(name="stringly")
    rule = neutron(cloud, conn, "POST", "/security-group-rules", json={"security_group_rule": {
        "security_group_id": group.id, "direction": "ingress", "protocol": "tcp", "port_range_min": "22",
        "port_range_max": "22"}})
    assert rule.status_code == 201 and rule.json()["security_group_rule"]["port_range_min"] == 22
    conn.network.delete_security_group(group)
    conn.network.delete_network(made.json()["network"]["id"])


def test_a_port_list_longer_than_a_page_is_whole(cloud, conn):
    conn.network.update_quota(conn.current_project_id, ports=2000)
    network = conn.network.create_network(name="crowded")
    conn.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.90.0.0/21")
    for _ in range(6):  # 1200 ports, past [network] pagination_max_limit (1000)
        made = neutron(cloud, conn, "POST", "/ports", json={"ports": [{"network_id": network.id}] * 200})
        assert made.status_code == 201, made.text
    first = neutron(cloud, conn, "GET", f"/ports?network_id={network.id}").json()
    assert len(first["ports"]) == 1000 and first["ports_links"][0]["rel"] == "next"
    assert len(list(conn.network.ports(network_id=network.id))) == 1200  # the SDK follows the next link
    listed = json.loads(openstack(cloud.clouds_yaml, "port", "list", "--network", network.id, "-f", "json"))
    assert len(listed) == 1200
    for port in list(conn.network.ports(network_id=network.id)):
        conn.network.delete_port(port)
    conn.network.delete_network(network)
    conn.network.delete_quota(conn.current_project_id)


def test_removing_a_router_interface_whose_address_changed(cloud, conn):
    network = conn.network.create_network(name="renumbered")
    subnet = conn.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.91.0.0/24")
    router = conn.network.create_router(name="renumbered")
    interface = conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    moved = conn.network.update_port(interface["port_id"], fixed_ips=[{"subnet_id": subnet.id}])
    assert moved.status == "ACTIVE" and moved.fixed_ips[0]["ip_address"] != subnet.gateway_ip
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    assert conn.network.find_port(interface["port_id"]) is None
    conn.network.delete_router(router)
    conn.network.delete_network(network)


def test_subnet_inputs_as_neutron_takes_them(cloud, conn):
    network = conn.network.create_network(name="cidr-forms")
    loose = neutron(cloud, conn, "POST", "/subnets", json={"subnet": {
        "network_id": network.id, "cidr": "10.90.0.5/24", "ip_version": 4}})
    assert loose.status_code == 201 and loose.json()["subnet"]["cidr"] == "10.90.0.0/24"  # host bits dropped
    bare = neutron(cloud, conn, "POST", "/subnets", json={"subnet": {
        "network_id": network.id, "cidr": "10.91.0.0", "ip_version": 4}})
    assert bare.status_code == 400 and "cidr" in bare.text
    mismatch = neutron(cloud, conn, "POST", "/subnets", json={"subnet": {
        "network_id": network.id, "cidr": "fd00:91::/64", "ip_version": 6, "ipv6_ra_mode": "slaac",
        "ipv6_address_mode": "dhcpv6-stateful"}})
    assert mismatch.status_code == 400 and "ipv6_address_mode" in mismatch.text
    slaac = conn.network.create_subnet(network_id=network.id, cidr="fd00:92::/64", ip_version=6,
                                       ipv6_ra_mode="slaac", ipv6_address_mode="slaac")
    port = conn.network.create_port(network_id=network.id)
    assert slaac.id in {ip["subnet_id"] for ip in port.fixed_ips}
    conn.network.delete_subnet(slaac)  # automatic addresses do not hold a subnet, as in Neutron
    assert {ip["subnet_id"] for ip in conn.network.get_port(port).fixed_ips} == {loose.json()["subnet"]["id"]}
    stateful = conn.network.create_subnet(network_id=network.id, cidr="fd00:93::/64", ip_version=6)
    conn.network.update_port(port, fixed_ips=[{"subnet_id": stateful.id}])
    held = neutron(cloud, conn, "DELETE", f"/subnets/{stateful.id}")
    assert held.status_code == 409
    conn.network.delete_port(port)
    conn.network.delete_network(network)


def test_the_v2_root_lists_resources_and_an_external_network_takes_its_loose_floating_ips(cloud, conn):
    root = neutron(cloud, conn, "GET", "")
    assert root.status_code == 200
    listed = {(r["name"], r["collection"]) for r in root.json()["resources"]}
    assert {("network", "networks"), ("port", "ports")} <= listed
    external = conn.network.create_network(name="ext-going", is_router_external=True)
    conn.network.create_subnet(network_id=external.id, cidr="203.0.113.0/24", ip_version=4)
    floating = conn.network.create_ip(floating_network_id=external.id)
    conn.network.delete_network(external)
    assert conn.network.find_ip(floating.id) is None
    assert not list(conn.network.ports(network_id=external.id))


def test_tags_on_every_tagged_resource_through_openstackclient_and_the_api(cloud, conn):
    osc = lambda *args: openstack(cloud.clouds_yaml, *args)  # noqa: E731
    gold = json.loads(osc("network", "create", "tagged-gold", "--tag", "gold", "--tag", "eu", "-f", "json"))
    plain = json.loads(osc("network", "create", "tagged-plain", "-f", "json"))
    assert sorted(gold["tags"]) == ["eu", "gold"]
    def names(*args):
        return {n["Name"] for n in json.loads(osc("network", "list", "-f", "json", *args))}
    assert names("--tags", "gold,eu") == {"tagged-gold"}
    assert "tagged-gold" not in names("--not-tags", "gold") and "tagged-plain" in names("--not-tags", "gold")
    assert names("--any-tags", "gold,nothing") == {"tagged-gold"}
    base = f"/networks/{plain['id']}/tags"
    before = neutron(cloud, conn, "GET", f"/networks/{plain['id']}").json()["network"]["revision_number"]
    assert neutron(cloud, conn, "PUT", f"{base}/red").status_code == 201
    assert neutron(cloud, conn, "GET", f"{base}/red").status_code == 204
    after = neutron(cloud, conn, "GET", f"/networks/{plain['id']}").json()["network"]
    assert after["tags"] == ["red"] and after["revision_number"] == before + 1
    replaced = neutron(cloud, conn, "PUT", base, json={"tags": ["blue", "green"]})
    assert replaced.status_code == 200 and replaced.json()["tags"] == ["blue", "green"]
    too_many = neutron(cloud, conn, "PUT", base, json={"tags": [f"t{n}" for n in range(51)]})
    assert too_many.status_code == 400
    assert neutron(cloud, conn, "GET", base).json()["tags"] == ["blue", "green"]  # a refused replace kept them
    missing = neutron(cloud, conn, "DELETE", f"{base}/absent")
    assert missing.status_code == 404 and missing.json()["NeutronError"]["type"] == "TagNotFound"
    assert neutron(cloud, conn, "DELETE", base).status_code == 204
    assert neutron(cloud, conn, "GET", base).json()["tags"] == []
    subnet = conn.network.create_subnet(network_id=plain["id"], cidr="10.96.0.0/24", ip_version=4)
    port = conn.network.create_port(network_id=plain["id"])
    group = conn.network.create_security_group(name="tagged-group")
    router = conn.network.create_router(name="tagged-router")
    for collection, item in (("subnets", subnet), ("ports", port), ("security-groups", group),
                             ("routers", router)):
        assert neutron(cloud, conn, "PUT", f"/{collection}/{item.id}/tags/mine").status_code == 201
        listed = neutron(cloud, conn, "GET", f"/{collection}?tags=mine").json()[collection.replace("-", "_")]
        assert [i["id"] for i in listed] == [item.id]
    # someone else may see a shared network but not tag it
    shared = conn.network.create_network(name="tagged-shared", shared=True)
    _, other = member_of_new_project(conn, "tag-outsider")
    refused = neutron(cloud, other, "PUT", f"/networks/{shared.id}/tags/theirs")
    assert refused.status_code == 403
    conn.network.delete_port(port)
    conn.network.delete_network(plain["id"])
    stored = sqlite3.connect(cloud.data_dir / "stratus.sqlite").execute(
        "select count(*) from resource_tags where resource_id in (?, ?, ?)", (plain["id"], subnet.id, port.id))
    assert stored.fetchone()[0] == 0  # deleting a resource drops its tags


def test_router_routes_replace_and_atomic_add_remove(cloud, conn):
    network = conn.network.create_network(name="routed")
    subnet = conn.network.create_subnet(network_id=network.id, cidr="10.97.0.0/24", ip_version=4)
    router = conn.network.create_router(name="with-routes")
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    osc = lambda *args: openstack(cloud.clouds_yaml, *args)  # noqa: E731
    osc("router", "set", router.id, "--route", "destination=192.168.10.0/24,gateway=10.97.0.10")
    assert conn.network.get_router(router).routes == [{"destination": "192.168.10.0/24", "nexthop": "10.97.0.10"}]
    osc("router", "add", "route", router.id, "--route", "destination=192.168.11.0/24,gateway=10.97.0.11")
    assert len(conn.network.get_router(router).routes) == 2
    for bad, words in (({"destination": "192.168.12.5/24", "nexthop": "10.97.0.12"}, "192.168.12.5/24"),
                       ({"destination": "192.168.12.0/24", "nexthop": "10.98.0.1"}, "not connected"),
                       ({"destination": "192.168.12.0/24", "nexthop": "10.97.0.1"}, "used by router"),
                       ({"destination": "fd00::/64", "nexthop": "10.97.0.12"}, "same IP version")):
        refused = neutron(cloud, conn, "PUT", f"/routers/{router.id}", json={"router": {"routes": [bad]}})
        assert refused.status_code == 400 and words in refused.text, refused.text
    assert len(conn.network.get_router(router).routes) == 2  # refused changes changed nothing
    held = neutron(cloud, conn, "PUT", f"/routers/{router.id}/remove_router_interface", json={"subnet_id": subnet.id})
    assert held.status_code == 409 and "routes" in held.text
    removed = neutron(cloud, conn, "PUT", f"/routers/{router.id}/remove_extraroutes", json={"router": {"routes": [
        {"destination": "192.168.10.0/24", "nexthop": "10.97.0.10"}]}})
    assert removed.json()["router"]["routes"] == [{"destination": "192.168.11.0/24", "nexthop": "10.97.0.11"}]
    cleared = neutron(cloud, conn, "PUT", f"/routers/{router.id}", json={"router": {"routes": None}})
    assert cleared.status_code == 200 and cleared.json()["router"]["routes"] == []
    osc("router", "set", router.id, "--route", "destination=192.168.11.0/24,gateway=10.97.0.11")
    osc("router", "unset", router.id, "--route", "destination=192.168.11.0/24,gateway=10.97.0.11")
    assert conn.network.get_router(router).routes == []
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    conn.network.delete_router(router)


def test_service_providers_name_the_router_provider(cloud, conn):
    answer = neutron(cloud, conn, "GET", "/service-providers")
    assert answer.status_code == 200
    (provider,) = answer.json()["service_providers"]
    assert provider["service_type"] == "L3_ROUTER_NAT" and provider["default"] is True
    only_names = neutron(cloud, conn, "GET", "/service-providers?fields=name").json()["service_providers"]
    assert list(only_names[0]) == ["name"]
    assert neutron(cloud, conn, "GET", "/service-providers?service_type=LOADBALANCERV2").json() == {
        "service_providers": []}


def test_subnets_carved_from_pools_in_an_address_scope(cloud, conn):
    osc = lambda *args: openstack(cloud.clouds_yaml, *args)  # noqa: E731
    scope = json.loads(osc("address", "scope", "create", "--share", "--ip-version", "4", "corp", "-f", "json"))
    pool = json.loads(osc("subnet", "pool", "create", "--pool-prefix", "10.100.0.0/16", "--default-prefix-length",
                          "24", "--address-scope", scope["id"], "--share", "corp-pool", "-f", "json"))
    assert pool["default_prefixlen"] == 24 and pool["address_scope_id"] == scope["id"]
    _, member = member_of_new_project(conn, "pool-user")
    network = member.network.create_network(name="from-pool")
    first = member.network.create_subnet(network_id=network.id, subnetpool_id=pool["id"], ip_version=4)
    second = json.loads(osc("subnet", "create", "--subnet-pool", "corp-pool", "--network", network.id, "second",
                            "-f", "json"))
    small = member.network.create_subnet(network_id=network.id, subnetpool_id=pool["id"], ip_version=4,
                                         prefixlen=26)
    assert (first.cidr, second["cidr"], small.cidr) == ("10.100.0.0/24", "10.100.1.0/24", "10.100.2.0/26")
    assert first.subnet_pool_id == pool["id"]
    assert member.network.get_network(network).ipv4_address_scope_id == scope["id"]
    for extra, status, words in (({"cidr": "10.100.1.0/24"}, 409, "overlaps"),
                                 ({"cidr": "10.200.0.0/24"}, 400, "not within"),
                                 ({"prefixlen": 4}, 400, "minimum"),
                                 ({"prefixlen": 33}, 400, "maximum")):
        refused = neutron(cloud, member, "POST", "/subnets", json={"subnet": {
            "network_id": network.id, "subnetpool_id": pool["id"], "ip_version": 4, **extra}})
        assert refused.status_code == status and words in refused.text, refused.text
    plain = neutron(cloud, member, "POST", "/subnets", json={"subnet": {
        "network_id": network.id, "cidr": "10.250.0.0/24", "ip_version": 4}})
    assert plain.status_code == 400 and "same subnet pool" in plain.text
    shrink = neutron(cloud, conn, "PUT", f"/subnetpools/{pool['id']}", json={"subnetpool": {
        "prefixes": ["10.100.0.0/17"]}})
    assert shrink.status_code == 400 and "10.100.0.0/16" in shrink.text
    grown = neutron(cloud, conn, "PUT", f"/subnetpools/{pool['id']}/add_prefixes", json={"prefixes": [
        "10.101.0.0/16"]})
    assert grown.json()["prefixes"] == ["10.100.0.0/15"]  # neighbours merge, as Neutron compacts them
    overlapping = neutron(cloud, conn, "POST", "/subnetpools", json={"subnetpool": {
        "name": "clash", "prefixes": ["10.101.128.0/17"], "address_scope_id": scope["id"]}})
    assert overlapping.status_code == 400 and "overlap" in overlapping.text
    assert neutron(cloud, conn, "DELETE", f"/subnetpools/{pool['id']}").status_code == 409
    assert neutron(cloud, conn, "DELETE", f"/address-scopes/{scope['id']}").status_code == 409
    for subnet_id in (first.id, second["id"], small.id):
        conn.network.delete_subnet(subnet_id, ignore_missing=False)
    assert neutron(cloud, conn, "DELETE", f"/subnetpools/{pool['id']}").status_code == 204
    assert neutron(cloud, conn, "DELETE", f"/address-scopes/{scope['id']}").status_code == 204


def test_a_pools_default_quota_and_concurrent_carving(cloud, conn):
    pool = conn.network.create_subnet_pool(name="quota-pool", prefixes=["10.110.0.0/16"], default_prefixlen=24,
                                           default_quota=512, shared=True, is_default=True)
    _, member = member_of_new_project(conn, "quota-pool-user")
    network = member.network.create_network(name="quota-net")
    made = [member.network.create_subnet(network_id=network.id, use_default_subnetpool=True, ip_version=4)
            for _ in range(2)]
    over = neutron(cloud, member, "POST", "/subnets", json={"subnet": {
        "network_id": network.id, "subnetpool_id": pool.id, "ip_version": 4}})
    assert over.status_code == 409 and over.json()["NeutronError"]["type"] == "SubnetPoolQuotaExceeded"
    second_default = neutron(cloud, conn, "POST", "/subnetpools", json={"subnetpool": {
        "name": "another-default", "prefixes": ["10.111.0.0/16"], "is_default": True}})
    assert second_default.status_code == 400
    for subnet in made:
        member.network.delete_subnet(subnet)
    conn.network.update_subnet_pool(pool, default_quota=None)
    networks = [conn.network.create_network(name=f"race-{n}") for n in range(8)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool_of_threads:
        answers = list(pool_of_threads.map(lambda net: neutron(cloud, conn, "POST", "/subnets", json={"subnet": {
            "network_id": net.id, "subnetpool_id": pool.id, "ip_version": 4}}), networks))
    assert [a.status_code for a in answers] == [201] * 8
    cidrs = [a.json()["subnet"]["cidr"] for a in answers]
    assert len(set(cidrs)) == 8  # no prefix handed out twice
    for net in networks:
        conn.network.delete_network(net)
    conn.network.delete_subnet_pool(pool)
