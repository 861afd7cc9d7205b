"""Render ``tempest.conf`` from a running Stratus cloud.

Everything a setting depends on is read from the cloud (its catalog, version documents,
extension list) or made in it through the public APIs (the second flavor and image, the
external network), so the file says what the cloud really serves. Feature flags are
written explicitly, true or false, each with the reason, so a reader of the rendered file
sees why a group of tests runs or skips.
"""

from __future__ import annotations

import configparser
import io
from dataclasses import dataclass, field
from typing import Any

import openstack

ALT_IMAGE = "tiny-alt"
PUBLIC_NETWORK, PUBLIC_CIDR = "public", "172.24.4.0/24"
FLAVOR, FLAVOR_ALT = "m1.nano", "m1.micro"

# (section, option, value, reason). Values that depend on the cloud are filled in by render().
COMPUTE_FEATURES = (
    ("resize", True, "resize and cold migration between the simulated hosts"),
    ("cold_migration", True, "the migrate action with confirm/revert"),
    ("live_migration", False, "live migration is not provided yet (README: Not yet)"),
    ("live_migrate_back_and_forth", False, "no live migration"),
    ("block_migration_for_live_migration", False, "no live migration"),
    ("volume_backed_live_migration", False, "no live migration, no volumes"),
    ("shelve", False, "shelve/unshelve is not provided yet (README: Not yet)"),
    ("shelve_migrate", False, "no shelve"),
    ("rescue", False, "rescue is not provided yet (README: Not yet)"),
    ("stable_rescue", False, "no rescue"),
    ("pause", True, "the fake hypervisor pauses and unpauses"),
    ("suspend", True, "the fake hypervisor suspends and resumes"),
    ("console_output", True, "the fake hypervisor keeps a console log"),
    ("snapshot", True, "createImage uploads the guest's disk to the image service"),
    ("interface_attach", True, "os-interface attach/detach"),
    ("config_drive", True, "config drives in Nova's layout"),
    ("disk_config", True, "OS-DCF:diskConfig is accepted and shown"),
    ("change_password", False, "the fake hypervisor cannot set a guest's password (Nova's default)"),
    ("enable_instance_password", True, "adminPass is returned at create/rebuild"),
    ("metadata_service", False, "no metadata service (guests get config drives)"),
    ("personality", False, "file injection was removed in 2.57 and no driver injects files"),
    ("vnc_console", True, "noVNC through the console proxy (the fake hypervisor's guests answer RFB)"),
    ("spice_console", False, "no SPICE consoles (VNC and serial only)"),
    ("serial_console", True, "serial consoles through the console proxy (tempest's only test needs live migration)"),
    ("swap_volume", False, "no block storage yet"),
    ("volume_multiattach", False, "no block storage yet"),
    ("attach_encrypted_volume", False, "no block storage yet"),
    ("ide_bus", False, "no block storage yet (the IDE-bus test attaches a volume)"),
    ("unified_limits", False, "compute quotas are Nova's legacy quota sets"),
    ("hostname_fqdn_sanitization", True, "hostnames are sanitized as Nova's (2.90/2.94)"),
    ("vtpm_live_migration", False, "no live migration"),
)

IDENTITY_FEATURES = (
    ("trust", False, "OS-TRUST is not provided yet"),
    ("access_rules", True, "application credentials with access rules"),
    ("security_compliance", False, "PCI-DSS password rules are not provided yet"),
    ("domain_specific_drivers", False, "domain-specific identity backends are not provided yet"),
    ("immutable_user_source", False, "the SQL backend lets users be changed"),
)

IMAGE_FEATURES = (
    ("import_image", True, "the import flow: glance-direct, web-download, copy-image"),
    ("os_glance_reserved", True, "os_glance_* properties are reserved"),
    ("manage_locations", False, "location add/delete through the API is not offered (show_multiple_locations off)"),
    ("image_conversion", False, "no image conversion on import"),
    ("image_format_enforcement", False, "uploaded data is not inspected against disk_format"),
    ("do_secure_hash", True, "os_hash_algo/os_hash_value (sha512) computed on upload"),
    ("http_store_enabled", False, "its add-location tests expect Glance's [DEFAULT] hashing_algorithm sha256 "
     "(Stratus hashes sha512 only)"),
    ("store_weight_enabled", False, "no store weights"),
)

#: the middlewares the object service implements (as its /info lists them); tempest skips the rest
OBJECT_APIS = ("slo", "tempurl", "bulk_delete", "bulk_upload", "container_quotas", "account_quotas")
OBJECT_FEATURES = (
    ("discoverability", True, "GET /object-store/info"),
    ("container_sync", False, "container sync is not provided (README: Not yet)"),
    ("object_versioning", True, "X-Versions-Location and X-History-Location"),
)
RESELLER_ADMIN_ROLE = "ResellerAdmin"

VOLUME_FEATURES = (
    ("backup", True, ""),
    ("snapshot", True, ""),
    ("clone", True, ""),
    ("manage_snapshot", False, "no manage/unmanage"),
    ("manage_volume", True, ""),
    ("extend_attached_volume", False, "no attachments to servers yet"),
    ("extend_volume_with_snapshot", True, ""),
    ("api_extensions", "os-volume-transfer", "one of the extensions the block-storage API lists"),
)

SERVICES = (
    # (tempest name, catalog type, why it is false when absent)
    ("keystone", "identity", ""),
    ("nova", "compute", "compute is not in the catalog"),
    ("glance", "image", "image is not in the catalog"),
    ("neutron", "network", "network is not in the catalog"),
    ("cinder", "block-storage", "block storage is not in the catalog"),
    ("swift", "object-store", "object-store is not in the catalog"),
    ("horizon", "dashboard", "no dashboard yet"),
)


@dataclass
class Conf:
    """An INI document whose options each carry a comment saying why."""

    sections: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)

    def set(self, section: str, option: str, value: Any, reason: str = "") -> None:
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        self.sections.setdefault(section, []).append((option, str(value), reason))

    def text(self) -> str:
        out = io.StringIO()
        for section, options in self.sections.items():
            out.write(f"[{section}]\n")
            for option, value, reason in options:
                if reason:
                    out.write(f"# {reason}\n")
                out.write(f"{option} = {value}\n")
            out.write("\n")
        text = out.getvalue()
        configparser.ConfigParser(interpolation=None).read_string(text)  # one value per option, well formed
        return text


def _versions(conn: openstack.connection.Connection, service: str) -> dict[str, Any]:
    """The CURRENT version of ``service``'s version document."""
    endpoint = conn.session.get_endpoint(service_type=service, interface="public")
    root = endpoint.rstrip("/").rsplit("/", 1)[0] if service == "compute" else endpoint
    answer = conn.session.get(root, endpoint_filter=None, raise_exc=False, headers={"Accept": "application/json"})
    body = answer.json()
    versions = body.get("versions", body)
    versions = versions.get("values", versions) if isinstance(versions, dict) else versions
    return next(v for v in versions if v.get("status", "").upper() == "CURRENT")


def _ensure_alt_image(conn: openstack.connection.Connection, image: Any) -> Any:
    alt = conn.image.find_image(ALT_IMAGE)
    if alt is None:
        data = conn.image.download_image(image, stream=True).content
        alt = conn.image.create_image(name=ALT_IMAGE, disk_format=image.disk_format,
                                      container_format=image.container_format, visibility="public", data=data)
    return alt


def _ensure_public_network(conn: openstack.connection.Connection) -> Any:
    network = conn.network.find_network(PUBLIC_NETWORK)
    if network is None:
        network = conn.network.create_network(name=PUBLIC_NETWORK, is_router_external=True)
        conn.network.create_subnet(network_id=network.id, name=f"{PUBLIC_NETWORK}-subnet", ip_version=4,
                                   cidr=PUBLIC_CIDR, enable_dhcp=False)
    return network


def render(conn: openstack.connection.Connection, auth: dict[str, str], *, image: str = "tiny",
           compute_hosts: int = 1, scheduler_filters: list[str] | None = None, http_image: str | None = None) -> str:
    """``tempest.conf`` for the cloud ``conn`` is connected to as its administrator (``auth``:
    auth_url, username, password, project_name, region; ``http_image``: a URL of an image file
    the cloud can download, for the web-download and task tests)."""
    conf = Conf()
    catalog = {entry["type"] for entry in conn.session.auth.get_access(conn.session).service_catalog.catalog}

    conf.set("DEFAULT", "log_file", "tempest.log")
    conf.set("auth", "admin_username", auth["username"])
    conf.set("auth", "admin_password", auth["password"])
    conf.set("auth", "admin_project_name", auth["project_name"])
    conf.set("auth", "admin_domain_name", "Default")
    conf.set("auth", "use_dynamic_credentials", True, "each test class gets its own projects and users")
    conf.set("auth", "create_isolated_networks", True,
             "each test project gets a network, subnet and router (gateway on the public network)")
    conf.set("auth", "tempest_roles", "member")

    conf.set("identity", "uri_v3", auth["auth_url"].rstrip("/") + "/v3")
    conf.set("identity", "auth_version", "v3")
    conf.set("identity", "region", auth["region"])
    conf.set("identity", "admin_role", "admin")
    for option, value, reason in IDENTITY_FEATURES:
        conf.set("identity-feature-enabled", option, value, reason)

    for name, service_type, reason in SERVICES:
        if name == "keystone":
            continue
        present = service_type in catalog
        conf.set("service_available", name, present, "" if present else reason)

    if "compute" in catalog:
        version = _versions(conn, "compute")
        tiny = conn.image.find_image(image, ignore_missing=False)
        alt = _ensure_alt_image(conn, tiny)
        conf.set("compute", "image_ref", tiny.id)
        conf.set("compute", "image_ref_alt", alt.id)
        conf.set("compute", "flavor_ref", conn.compute.find_flavor(FLAVOR, ignore_missing=False).id)
        conf.set("compute", "flavor_ref_alt", conn.compute.find_flavor(FLAVOR_ALT, ignore_missing=False).id)
        conf.set("compute", "min_microversion", version["min_version"], "the cloud's version document")
        conf.set("compute", "max_microversion", version["version"], "the cloud's version document")
        conf.set("compute", "region", auth["region"])
        conf.set("compute", "min_compute_nodes", compute_hosts, "[compute] simulated_hosts of the cloud")
        conf.set("compute", "build_timeout", 120)
        for option, value, reason in COMPUTE_FEATURES:
            if option in ("resize", "cold_migration") and compute_hosts < 2 and option == "cold_migration":
                value, reason = False, "one compute host: nowhere to migrate to"
            conf.set("compute-feature-enabled", option, value, reason)
        if scheduler_filters is not None:
            conf.set("compute-feature-enabled", "scheduler_enabled_filters", scheduler_filters,
                     "the cloud's [filter_scheduler] enabled_filters")

    if "block-storage" in catalog:
        version = _versions(conn, "block-storage")
        conf.set("volume", "region", auth["region"])
        conf.set("volume", "catalog_type", "block-storage")
        conf.set("volume", "min_microversion", version["min_version"], "the cloud's version document")
        conf.set("volume", "max_microversion", version["version"], "the cloud's version document")
        conf.set("volume", "vendor_name", "Stratus", "what the file backend reports")
        conf.set("volume", "storage_protocol", "file", "the file backend's connection type")
        conf.set("volume", "build_timeout", 60)
        conf.set("volume", "manage_volume_ref", "source-name,unmanaged-%s",
                 "the file backend keeps a volume it lets go as unmanaged-<id>")
        for option, value, reason in VOLUME_FEATURES:
            conf.set("volume-feature-enabled", option, value, reason)

    if "image" in catalog:
        conf.set("image", "region", auth["region"])
        conf.set("image", "build_timeout", 60)
        if http_image:
            conf.set("image", "http_image", http_image, "served by the test run (no internet here)")
            conf.set("image", "http_qcow2_image", http_image, "served by the test run (no internet here)")
        for option, value, reason in IMAGE_FEATURES:
            conf.set("image-feature-enabled", option, value, reason)

    if "network" in catalog:
        public = _ensure_public_network(conn)
        extensions = sorted(ext.alias for ext in conn.network.extensions())
        conf.set("network", "region", auth["region"])
        conf.set("network", "public_network_id", public.id, "an external network made for the run")
        conf.set("network", "floating_network_name", public.name)
        conf.set("network", "project_network_cidr", "10.100.0.0/16")
        conf.set("network", "project_network_v6_cidr", "2001:db8::/48")
        conf.set("network-feature-enabled", "api_extensions", extensions, "the cloud's /v2.0/extensions")
        conf.set("network-feature-enabled", "ipv6", True, "IPv6 subnets")
        conf.set("network-feature-enabled", "ipv6_subnet_attributes", True, "ipv6_ra_mode/ipv6_address_mode")
        conf.set("network-feature-enabled", "port_security", "port-security" in extensions,
                 "port_security_enabled on networks and ports")
        conf.set("network-feature-enabled", "floating_ips", True, "routers and floating IPs")

    if "object-store" in catalog:
        if conn.identity.find_role(RESELLER_ADMIN_ROLE) is None:
            conn.identity.create_role(name=RESELLER_ADMIN_ROLE)
        conf.set("object-storage", "region", auth["region"])
        conf.set("object-storage", "operator_role", "member", "[object_store] operator_roles")
        conf.set("object-storage", "reseller_admin_role", RESELLER_ADMIN_ROLE,
                 "[object_store] reseller_admin_role (the role made for the run)")
        conf.set("object-storage-feature-enabled", "discoverable_apis", OBJECT_APIS, "what /info lists")
        for option, value, reason in OBJECT_FEATURES:
            conf.set("object-storage-feature-enabled", option, value, reason)

    conf.set("validation", "run_validation", False,
             "guests of the fake hypervisor cannot be reached over SSH")
    return conf.text()
