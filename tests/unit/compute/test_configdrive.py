"""The config drive's files: Nova's layout and the contents cloud-init reads."""

from __future__ import annotations

import base64
import json

from stratus.compute import configdrive

ROW = {"uuid": "u-1", "display_name": "web 1", "hostname": "web-1", "launch_index": 0, "project_id": "p",
       "availability_zone": "az1", "key_name": "k", "key_data": "ssh-ed25519 AAAA me",
       "user_data": base64.b64encode(b"#cloud-config\n").decode()}
NICS = [{"port_id": "0123456789abcdef", "network_id": "n1", "mac_address": "fa:16:3e:00:00:01", "mtu": 1450,
         "vif_type": "ovs", "tag": "front",
         "fixed_ips": [{"subnet_id": "s4", "ip_address": "10.0.0.5"}, {"subnet_id": "s6", "ip_address": "fd00::5"}]},
        {"port_id": "fedcba9876543210", "network_id": "n2", "mac_address": "fa:16:3e:00:00:02", "mtu": 1500,
         "vif_type": "logical", "fixed_ips": [{"subnet_id": "d4", "ip_address": "192.168.1.7"}]}]
SUBNETS = {
    "s4": {"cidr": "10.0.0.0/24", "ip_version": 4, "gateway_ip": "10.0.0.1", "enable_dhcp": False,
           "ipv6_address_mode": None, "dns": ["9.9.9.9"],
           "routes": [{"destination": "172.16.0.0/16", "nexthop": "10.0.0.254"}]},
    "s6": {"cidr": "fd00::/64", "ip_version": 6, "gateway_ip": "fd00::1", "enable_dhcp": True,
           "ipv6_address_mode": "slaac", "dns": [], "routes": []},
    "d4": {"cidr": "192.168.1.0/24", "ip_version": 4, "gateway_ip": "192.168.1.1", "enable_dhcp": True,
           "ipv6_address_mode": None, "dns": ["9.9.9.9"], "routes": []},
}


def test_the_drive_has_novas_layout_with_user_data_in_every_version():
    files = configdrive.files(ROW, {"role": "web"}, NICS, SUBNETS, [])
    assert files["openstack/latest/user_data"] == b"#cloud-config\n"
    assert "openstack/2012-08-10/meta_data.json" in files and "openstack/2012-08-10/network_data.json" not in files
    assert files["openstack/2018-08-27/network_data.json"] == files["openstack/latest/network_data.json"]
    assert files["openstack/latest/vendor_data2.json"] == b"{}"
    assert all(path.startswith("openstack/") for path in files)


def test_meta_data_names_the_server_its_keys_and_tagged_devices():
    meta = json.loads(configdrive.files(ROW, {"role": "web"}, NICS, SUBNETS, [
        {"device_name": "/dev/vdb", "tag": "scratch"}])["openstack/latest/meta_data.json"])
    assert (meta["uuid"], meta["hostname"], meta["name"], meta["availability_zone"]) == ("u-1", "web-1", "web 1",
                                                                                         "az1")
    assert meta["public_keys"] == {"k": "ssh-ed25519 AAAA me"} and meta["keys"][0]["type"] == "ssh"
    assert meta["meta"] == {"role": "web"} and len(base64.b64decode(meta["random_seed"])) == 512
    assert meta["devices"] == [{"type": "nic", "bus": "pci", "mac": "fa:16:3e:00:00:01", "tags": ["front"]},
                               {"type": "disk", "bus": "virtio", "path": "/dev/vdb", "tags": ["scratch"]}]


def test_network_data_gives_static_addresses_routes_and_dns_and_dhcp_where_it_runs():
    data = configdrive.network_data(NICS, SUBNETS)
    assert [(link["id"], link["type"], link["mtu"]) for link in data["links"]] == [
        ("tap0123456789a", "ovs", 1450), ("tapfedcba98765", "phy", 1500)]
    static, slaac, dhcp = data["networks"]
    assert static == {"id": "network0", "link": "tap0123456789a", "network_id": "n1", "type": "ipv4",
                      "ip_address": "10.0.0.5", "netmask": "255.255.255.0",
                      "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.0.1"},
                                 {"network": "172.16.0.0", "netmask": "255.255.0.0", "gateway": "10.0.0.254"}],
                      "services": [{"type": "dns", "address": "9.9.9.9"}]}
    assert slaac["type"] == "ipv6_slaac" and slaac["netmask"] == "ffff:ffff:ffff:ffff::"
    assert dhcp == {"id": "network2", "link": "tapfedcba98765", "network_id": "n2", "type": "ipv4_dhcp"}
    assert data["services"] == [{"type": "dns", "address": "9.9.9.9"}]
