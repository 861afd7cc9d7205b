"""Networking API app, mounted at ``/network`` (clients append ``v2.0``)."""

from __future__ import annotations

from stratus.api import versions
from stratus.api.app import ApiDeps, ServiceApp, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle
from stratus.api.policy import Policy
from stratus.network import policies
from stratus.network.api import (
    agents,
    extensions,
    floating_ips,
    networks,
    ports,
    quotas,
    routers,
    security_groups,
    subnetpools,
    subnets,
    tags,
)

SPEC = ServiceSpec("network", "/network", "network", ErrorStyle.NETWORK)

V2_0 = versions.Version(
    id="v2.0", path="v2.0", status="CURRENT", updated="2014-01-01T00:00:00Z",
    media_type="application/json",
)


#: (resource, collection) of what ``GET /v2.0`` lists
RESOURCES = (("network", "networks"), ("subnet", "subnets"), ("port", "ports"),
             ("security_group", "security-groups"), ("security_group_rule", "security-group-rules"),
             ("router", "routers"), ("floatingip", "floatingips"), ("quota", "quotas"), ("agent", "agents"),
             ("availability_zone", "availability_zones"), ("extension", "extensions"),
             ("service_provider", "service-providers"), ("subnetpool", "subnetpools"),
             ("address_scope", "address-scopes"))


def create_app(deps: ApiDeps) -> ServiceApp:
    app = create_service_app(SPEC, deps)
    app.add_route("/", versions.VersionDocument(
        deps.conf, lambda root: (200, {"versions": [V2_0.document(root)]}),
        "Networking API versions", versions.VERSIONS_LIST_SCHEMA,
    ))
    service = deps.services.get("network")
    if service is not None:
        policy = Policy(deps.conf, policies.RULES)
        app.add_route("/v2.0", extensions.Resources(RESOURCES))
        app.add_route("/v2.0/extensions", extensions.Extensions())
        app.add_route("/v2.0/extensions/{alias}", extensions.Extension())
        app.add_route("/v2.0/service-providers", extensions.ServiceProviders(deps.conf.network.plugin))
        for name, collection, item in (("networks", networks.Networks, networks.NetworkItem),
                                       ("subnets", subnets.Subnets, subnets.SubnetItem),
                                       ("ports", ports.Ports, ports.PortItem),
                                       ("security-groups", security_groups.SecurityGroups,
                                        security_groups.SecurityGroupItem),
                                       ("security-group-rules", security_groups.SecurityGroupRules,
                                        security_groups.SecurityGroupRuleItem),
                                       ("routers", routers.Routers, routers.RouterItem),
                                       ("floatingips", floating_ips.FloatingIPs, floating_ips.FloatingIPItem),
                                       ("subnetpools", subnetpools.SubnetPools, subnetpools.SubnetPoolItem),
                                       ("address-scopes", subnetpools.AddressScopes, subnetpools.AddressScopeItem)):
            app.add_route(f"/v2.0/{name}", collection(service, policy))
            app.add_route(f"/v2.0/{name}/{{{name[:-1].replace('-', '_')}_id}}", item(service, policy))
        tags.add_routes(app, service, policy)
        app.add_route("/v2.0/quotas", quotas.Quotas(service, policy))
        app.add_route("/v2.0/agents", agents.Agents(service, policy))
        app.add_route("/v2.0/agents/{agent_id}", agents.AgentItem(service, policy))
        app.add_route("/v2.0/availability_zones", agents.AvailabilityZones(service, policy))
        for suffix in ("", "default", "details"):
            app.add_route(f"/v2.0/quotas/{{project_id}}{'/' + suffix if suffix else ''}",
                          quotas.ProjectQuota(service, policy, suffix), methods=None if not suffix else ("GET",))
        for action, adding in (("add_router_interface", True), ("remove_router_interface", False)):
            app.add_route(f"/v2.0/routers/{{router_id}}/{action}", routers.RouterInterface(service, policy, adding))
        for action, adding in (("add_prefixes", True), ("remove_prefixes", False)):
            app.add_route(f"/v2.0/subnetpools/{{subnetpool_id}}/{action}",
                          subnetpools.SubnetPoolPrefixes(service, policy, adding))
        for action, adding in (("add_extraroutes", True), ("remove_extraroutes", False)):
            app.add_route(f"/v2.0/routers/{{router_id}}/{action}", routers.ExtraRoutes(service, policy, adding))
    return finish(app)
