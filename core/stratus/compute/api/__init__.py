"""Compute API app, mounted at ``/compute``.

Serves Nova's version documents. The advertised microversion range is the one really
implemented (see :mod:`stratus.compute.api.microversions`).
"""

from __future__ import annotations

from stratus.api import versions
from stratus.api.app import ApiDeps, ServiceApp, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle
from stratus.api.middleware import EmptyIdIsNotFound
from stratus.api.policy import Policy
from stratus.compute import policies
from stratus.compute.api import (
    actions,
    aggregates,
    consoles,
    diagnostics,
    events,
    extensions,
    flavors,
    floating_ips,
    groups,
    hosts,
    hypervisors,
    images,
    interfaces,
    keypairs,
    limits,
    metadata,
    microversions,
    migrations,
    networks,
    passwords,
    removed,
    security_groups,
    servers,
    services,
    tags,
    topology,
    usage,
    usage_audit,
    volume_attachments,
)

SPEC = ServiceSpec("compute", "/compute", "compute", ErrorStyle.COMPUTE, "x-compute-request-id")

MIN_MICROVERSION = str(microversions.MIN)
MAX_MICROVERSION = str(microversions.MAX)

V2_0 = versions.Version(
    id="v2.0", path="v2", status="SUPPORTED", updated="2011-01-21T11:33:21Z",
    media_type="application/vnd.openstack.compute+json;version=2", version="", min_version="",
)
V2_1 = versions.Version(
    id="v2.1", path="v2.1", status="CURRENT", updated="2013-07-23T11:33:21Z",
    media_type="application/vnd.openstack.compute+json;version=2.1",
    version=MAX_MICROVERSION, min_version=MIN_MICROVERSION,
)


def create_app(deps: ApiDeps) -> ServiceApp:
    app = create_service_app(SPEC, deps, [EmptyIdIsNotFound(), microversions.Negotiation()])
    app.add_route("/", versions.VersionDocument(
        deps.conf, lambda root: (200, {"versions": [V2_0.document(root), V2_1.document(root)]}),
        "Compute API versions (v2.0, the legacy API without microversions, then v2.1)",
        versions.VERSIONS_LIST_SCHEMA,
    ))
    app.add_route("/v2", versions.VersionDocument(
        deps.conf, lambda root: (200, {"version": V2_0.document(root)}),
        "Compute v2.0 version document", versions.VERSION_SINGLE_SCHEMA,
    ))
    app.add_route("/v2.1", versions.VersionDocument(
        deps.conf, lambda root: (200, {"version": V2_1.document(root)}),
        "Compute v2.1 version document with the microversion range", versions.VERSION_SINGLE_SCHEMA,
    ))
    service = deps.services.get("compute")
    if service is not None:
        policy = Policy(deps.conf, policies.RULES)
        app.add_route("/v2.1/flavors", flavors.Flavors(service, policy, detail=False))
        app.add_route("/v2.1/flavors/detail", flavors.Flavors(service, policy, detail=True), methods=("GET",))
        app.add_route("/v2.1/flavors/{flavor_id}", flavors.FlavorItem(service, policy))
        app.add_route("/v2.1/flavors/{flavor_id}/os-extra_specs", flavors.ExtraSpecs(service, policy))
        app.add_route("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", flavors.ExtraSpec(service, policy))
        app.add_route("/v2.1/flavors/{flavor_id}/os-flavor-access", flavors.FlavorAccess(service, policy))
        app.add_route("/v2.1/flavors/{flavor_id}/action", flavors.FlavorAction(service, policy))
        app.add_route("/v2.1/servers", servers.Servers(deps, policy, detail=False))
        app.add_route("/v2.1/servers/detail", servers.Servers(deps, policy, detail=True), methods=("GET",))
        app.add_route("/v2.1/servers/{server_id}", servers.ServerItem(deps, policy))
        app.add_route("/v2.1/servers/{server_id}/action", actions.ServerAction(deps, policy))
        app.add_route("/v2.1/servers/{server_id}/metadata", metadata.ServerMetadata(service, policy))
        app.add_route("/v2.1/servers/{server_id}/metadata/{key}", metadata.ServerMetadataItem(service, policy))
        app.add_route("/v2.1/servers/{server_id}/ips", metadata.ServerIps(service, policy))
        app.add_route("/v2.1/servers/{server_id}/ips/{label}", metadata.ServerIps(service, policy))
        app.add_route("/v2.1/servers/{server_id}/os-instance-actions", events.InstanceActions(service, policy))
        app.add_route("/v2.1/servers/{server_id}/os-instance-actions/{request_id}",
                      events.InstanceActions(service, policy))
        app.add_route("/v2.1/os-server-external-events", events.ExternalEvents(service, policy))
        app.add_route("/v2.1/os-server-groups", groups.ServerGroups(service, policy))
        app.add_route("/v2.1/os-server-groups/{group_id}", groups.ServerGroupItem(service, policy))
        app.add_route("/v2.1/os-hypervisors", hypervisors.Hypervisors(service, policy, ""))
        for view in ("detail", "statistics"):
            app.add_route(f"/v2.1/os-hypervisors/{view}", hypervisors.Hypervisors(service, policy, view))
        for view in ("search", "servers"):
            app.add_route(f"/v2.1/os-hypervisors/{{hypervisor_id}}/{view}",
                          hypervisors.Hypervisors(service, policy, view))
        app.add_route("/v2.1/os-hypervisors/{hypervisor_id}", hypervisors.HypervisorItem(service, policy))
        app.add_route("/v2.1/os-hypervisors/{hypervisor_id}/uptime", hypervisors.HypervisorUptime(service, policy))
        app.add_route("/v2.1/os-services", services.Services(service, policy))
        app.add_route("/v2.1/os-services/{service_id}", services.ServiceItem(service, policy))
        app.add_route("/v2.1/os-availability-zone", limits.AvailabilityZones(service, policy, False))
        app.add_route("/v2.1/os-availability-zone/detail", limits.AvailabilityZones(service, policy, True))
        app.add_route("/v2.1/limits", limits.Limits(service, policy))
        app.add_route("/v2.1/os-quota-sets/{project_id}", limits.QuotaSet(service, policy))
        app.add_route("/v2.1/os-quota-sets/{project_id}/defaults", limits.QuotaSet(service, policy, "defaults"),
                      methods=("GET",))
        app.add_route("/v2.1/os-quota-sets/{project_id}/detail", limits.QuotaSet(service, policy, "detail"),
                      methods=("GET",))
        app.add_route("/v2.1/os-quota-class-sets/{class_name}", limits.QuotaClassSet(service, policy))
        app.add_route("/v2.1/servers/{server_id}/diagnostics", diagnostics.ServerDiagnostics(service, policy))
        app.add_route("/v2.1/os-hosts", hosts.Hosts(service, policy))
        app.add_route("/v2.1/os-hosts/{host_name}", hosts.HostItem(service, policy))
        for action in ("startup", "shutdown", "reboot"):
            app.add_route(f"/v2.1/os-hosts/{{host_name}}/{action}", hosts.HostPowerAction(service, policy, action))
        app.add_route("/v2.1/os-instance_usage_audit_log", usage_audit.AuditLogs(service, policy))
        app.add_route("/v2.1/os-instance_usage_audit_log/{before}", usage_audit.AuditLog(service, policy))
        app.add_route("/v2.1/os-simple-tenant-usage", usage.TenantUsages(service, policy))
        app.add_route("/v2.1/os-simple-tenant-usage/{project_id}", usage.TenantUsage(service, policy))
        app.add_route("/v2.1/extensions", extensions.Extensions(policy))
        app.add_route("/v2.1/extensions/{alias}", extensions.Extension(policy))
        app.add_route("/v2.1/servers/{server_id}/os-server-password", passwords.ServerPassword(service, policy))
        app.add_route("/v2.1/servers/{server_id}/os-interface", interfaces.Interfaces(deps, policy),
                      methods=("GET", "POST"))
        app.add_route("/v2.1/servers/{server_id}/os-interface/{port_id}", interfaces.Interfaces(deps, policy),
                      methods=("GET", "DELETE"))
        app.add_route("/v2.1/servers/{server_id}/os-volume_attachments",
                      volume_attachments.VolumeAttachments(deps, policy), methods=("GET", "POST"))
        app.add_route("/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}",
                      volume_attachments.VolumeAttachments(deps, policy), methods=("GET", "PUT", "DELETE"))
        app.add_route("/v2.1/servers/{server_id}/topology", topology.ServerTopology(service, policy))
        app.add_route("/v2.1/servers/{server_id}/tags", tags.ServerTags(service, policy))
        app.add_route("/v2.1/servers/{server_id}/tags/{tag}", tags.ServerTag(service, policy))
        app.add_route("/v2.1/servers/{server_id}/remote-consoles", consoles.RemoteConsoles(service, policy))
        # Nova's XVP consoles, removed in Ussuri (os-consoles stays in its /extensions, as here)
        app.add_route("/v2.1/servers/{server_id}/consoles", removed.Removed("os-consoles"))
        app.add_route("/v2.1/servers/{server_id}/consoles/{console_id}", removed.Removed("os-consoles"))
        app.add_route("/v2.1/os-migrations", migrations.Migrations(service, policy, deps.conf))
        app.add_route("/v2.1/os-aggregates", aggregates.Aggregates(service, policy))
        app.add_route("/v2.1/os-aggregates/{aggregate_id}", aggregates.AggregateItem(service, policy))
        app.add_route("/v2.1/os-aggregates/{aggregate_id}/action", aggregates.AggregateAction(service, policy))
        app.add_route("/v2.1/os-aggregates/{aggregate_id}/images",
                      aggregates.AggregateImages(service, policy, service.images))
        app.add_route("/v2.1/os-keypairs", keypairs.KeyPairs(service, policy))
        app.add_route("/v2.1/os-keypairs/{name}", keypairs.KeyPairItem(service, policy))
        # the proxies to the network and image services Nova keeps until 2.35
        app.add_route("/v2.1/os-security-groups", security_groups.SecurityGroups(deps, policy))
        app.add_route("/v2.1/os-security-groups/{group_id}", security_groups.SecurityGroupItem(deps, policy))
        app.add_route("/v2.1/os-security-group-rules", security_groups.SecurityGroupRules(deps, policy))
        app.add_route("/v2.1/os-security-group-rules/{rule_id}", security_groups.SecurityGroupRuleItem(deps, policy))
        app.add_route("/v2.1/servers/{server_id}/os-security-groups",
                      security_groups.ServerSecurityGroups(deps, policy))
        app.add_route("/v2.1/os-floating-ips", floating_ips.FloatingIPs(deps, policy))
        app.add_route("/v2.1/os-floating-ips/{floating_ip_id}", floating_ips.FloatingIPItem(deps, policy))
        app.add_route("/v2.1/os-floating-ip-pools", floating_ips.FloatingIPPools(deps, policy))
        for path, tenant in (("os-networks", False), ("os-tenant-networks", True)):
            app.add_route(f"/v2.1/{path}", networks.Networks(deps, policy, tenant))
            app.add_route(f"/v2.1/{path}/{{network_id}}", networks.NetworkItem(deps, policy, tenant))
        app.add_route("/v2.1/images", images.Images(deps, policy, detail=False))
        app.add_route("/v2.1/images/detail", images.Images(deps, policy, detail=True))
        app.add_route("/v2.1/images/{image_id}", images.ImageItem(deps, policy))
        app.add_route("/v2.1/images/{image_id}/metadata", images.ImageMetadata(deps, policy))
        app.add_route("/v2.1/images/{image_id}/metadata/{key}", images.ImageMetadataItem(deps, policy))
    return finish(app)
