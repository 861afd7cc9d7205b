"""Compute API app, mounted at ``/compute``.

Serves Nova's version documents. The advertised microversion range is the one really
implemented (see :mod:`stratus.compute.api.microversions`).
"""

from __future__ import annotations

from stratus.api import versions
from stratus.api.app import ApiDeps, ServiceApp, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle
from stratus.api.policy import Policy
from stratus.compute import policies
from stratus.compute.api import (
    actions,
    aggregates,
    events,
    flavors,
    groups,
    hosts,
    hypervisors,
    interfaces,
    keypairs,
    metadata,
    microversions,
    migrations,
    servers,
    services,
    tags,
    topology,
)

SPEC = ServiceSpec("compute", "/compute", "compute", ErrorStyle.COMPUTE, "x-compute-request-id")

MIN_MICROVERSION = str(microversions.MIN)
MAX_MICROVERSION = str(microversions.MAX)

V2_1 = versions.Version(
    id="v2.1", path="v2.1", status="CURRENT", updated="2013-07-23T11:33:21Z",
    media_type="application/vnd.openstack.compute+json;version=2.1",
    version=MAX_MICROVERSION, min_version=MIN_MICROVERSION,
)


def create_app(deps: ApiDeps) -> ServiceApp:
    app = create_service_app(SPEC, deps, [microversions.Negotiation()])
    app.add_route("/", versions.VersionDocument(
        deps.conf, lambda root: (200, {"versions": [V2_1.document(root)]}),
        "Compute API versions", versions.VERSIONS_LIST_SCHEMA,
    ))
    app.add_route("/v2.1", versions.VersionDocument(
        deps.conf, lambda root: (200, {"version": V2_1.document(root)}),
        "Compute v2.1 version document with the microversion range", versions.VERSION_SINGLE_SCHEMA,
    ))
    service = deps.services.get("compute")
    if service is not None:
        policy = Policy(deps.conf, policies.RULES)
        app.add_route("/v2.1/flavors", flavors.Flavors(service, policy, detail=False))
        app.add_route("/v2.1/flavors/detail", flavors.Flavors(service, policy, detail=True))
        app.add_route("/v2.1/flavors/{flavor_id}", flavors.FlavorItem(service, policy))
        app.add_route("/v2.1/flavors/{flavor_id}/os-extra_specs", flavors.ExtraSpecs(service, policy))
        app.add_route("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", flavors.ExtraSpec(service, policy))
        app.add_route("/v2.1/flavors/{flavor_id}/os-flavor-access", flavors.FlavorAccess(service, policy))
        app.add_route("/v2.1/flavors/{flavor_id}/action", flavors.FlavorAction(service, policy))
        app.add_route("/v2.1/servers", servers.Servers(deps, policy, detail=False))
        app.add_route("/v2.1/servers/detail", servers.Servers(deps, policy, detail=True))
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
        app.add_route("/v2.1/os-availability-zone", hosts.AvailabilityZones(service, policy, False))
        app.add_route("/v2.1/os-availability-zone/detail", hosts.AvailabilityZones(service, policy, True))
        app.add_route("/v2.1/limits", hosts.Limits(service, policy))
        app.add_route("/v2.1/os-quota-sets/{project_id}", hosts.QuotaSet(service, policy))
        app.add_route("/v2.1/os-quota-sets/{project_id}/defaults", hosts.QuotaSet(service, policy, "defaults"))
        app.add_route("/v2.1/os-quota-sets/{project_id}/detail", hosts.QuotaSet(service, policy, "detail"))
        app.add_route("/v2.1/servers/{server_id}/os-interface", interfaces.Interfaces(deps, policy))
        app.add_route("/v2.1/servers/{server_id}/os-interface/{port_id}", interfaces.Interfaces(deps, policy))
        app.add_route("/v2.1/servers/{server_id}/topology", topology.ServerTopology(service, policy))
        app.add_route("/v2.1/servers/{server_id}/tags", tags.ServerTags(service, policy))
        app.add_route("/v2.1/servers/{server_id}/tags/{tag}", tags.ServerTag(service, policy))
        app.add_route("/v2.1/servers/{server_id}/remote-consoles", tags.RemoteConsoles(service, policy))
        app.add_route("/v2.1/os-migrations", migrations.Migrations(service, policy, deps.conf))
        app.add_route("/v2.1/os-aggregates", aggregates.Aggregates(service, policy))
        app.add_route("/v2.1/os-aggregates/{aggregate_id}", aggregates.AggregateItem(service, policy))
        app.add_route("/v2.1/os-aggregates/{aggregate_id}/action", aggregates.AggregateAction(service, policy))
        app.add_route("/v2.1/os-aggregates/{aggregate_id}/images",
                      aggregates.AggregateImages(service, policy, deps.services.get("image")))
        app.add_route("/v2.1/os-keypairs", keypairs.KeyPairs(service, policy))
        app.add_route("/v2.1/os-keypairs/{name}", keypairs.KeyPairItem(service, policy))
    return finish(app)
