"""``/v2.0/extensions``: the aliases of what this API implements (clients gate features on them)."""

from __future__ import annotations

import falcon

from stratus.api.validation import schema
from stratus.exceptions import NotFound

#: alias -> (name, description); only what is implemented is listed
EXTENSIONS = {
    "provider": ("Provider Network", "Expose mapping of virtual networks to physical networks"),
    "external-net": ("Neutron external network", "Adds external network attribute to network resource."),
    "binding": ("Port Binding", "Expose port bindings of a virtual port to external application"),
    "allowed-address-pairs": ("Allowed Address Pairs", "Provides allowed address pairs"),
    "port-security": ("Port Security", "Provides port security"),
    "quotas": ("Quota management support", "Expose functions for quotas management per project"),
    "quota_details": ("Quota details management support", "Expose functions for quotas usage statistics per "
                                                           "project"),
    "router": ("Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 Neutron networks and "
                                    "access to external networks via a NAT gateway."),
    "ext-gw-mode": ("Neutron L3 Configurable external gateway mode", "Extension of the router abstraction for "
                                                                     "specifying whether SNAT should occur on the "
                                                                     "external gateway"),
    "security-group": ("security-group", "The security groups extension."),
    "stateful-security-group": ("Stateful security group", "Indicates if the security group is stateful or not"),
    "net-mtu": ("Network MTU", "Provides MTU attribute for a network resource."),
    "standard-attr-description": ("standard-attr-description", "Extension to add descriptions to standard "
                                                               "attributes"),
    "standard-attr-timestamp": ("Resource timestamps", "Adds created_at and updated_at fields to all Neutron "
                                                       "resources that have Neutron standard attributes."),
    "standard-attr-revisions": ("Resource revision numbers", "This extension will display the revision number of "
                                                             "neutron resources."),
    "project-id": ("project_id field enabled", "Extension that indicates that project_id field is enabled."),
    "pagination": ("Pagination support", "Extension that indicates that pagination is enabled."),
    "sorting": ("Sorting support", "Extension that indicates that sorting is enabled."),
    "fip-port-details": ("Floating IP Port Details Extension", "Add port_details attribute to Floating IP "
                                                               "resource"),
    "subnet-external-network": ("Subnet External Network", "Subnets of external networks are visible to every "
                                                            "project (read only)."),
    "agent": ("agent", "The agent management extension."),
    "availability_zone": ("Availability Zone", "The availability zone extension."),
    "extraroute": ("Neutron Extra Route", "Extra routes configuration for L3 router"),
    "extraroute-atomic": ("Atomically add/remove extra routes", "Edit extra routes of a router on server side by "
                          "atomically adding/removing extra routes"),
    "service-type": ("Neutron Service Type Management", "API for retrieving service providers for Neutron "
                     "advanced services"),
    "subnet_allocation": ("Subnet Allocation", "Enables allocation of subnets from a subnet pool"),
    "default-subnetpools": ("Default Subnetpools", "Provides ability to mark and use a subnetpool as the default."),
    "subnetpool-prefix-ops": ("Subnet Pool Prefix Operations", "Provides support for adjusting the prefix list of "
                              "subnet pools"),
    "address-scope": ("Address scope", "Address scopes extension."),
    "standard-attr-tag": ("Tag support for resources with standard attribute", "Enables to set tag on resources "
                          "with standard attribute: networks, subnets, ports, routers, security groups, floating "
                          "IPs."),
    "tag-creation": ("Tag creation extension", "Tags may be given when a resource is created."),
    "filter-validation": ("Filter parameters validation", "Provides validation on filter parameters."),
}


def document(alias: str) -> dict[str, object]:
    name, description = EXTENSIONS[alias]
    return {"alias": alias, "name": name, "description": description, "links": [],
            "updated": "2026-11-22T00:00:00-00:00"}


class Extensions:
    @schema("List the implemented extensions", responses={200: {"type": "object", "required": ["extensions"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"extensions": [document(alias) for alias in EXTENSIONS]}


class Extension:
    @schema("Show one extension", responses={200: {"type": "object", "required": ["extension"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, alias: str) -> None:
        if alias not in EXTENSIONS:
            raise NotFound(f"Extension with alias {alias} does not exist")
        resp.media = {"extension": document(alias)}


class ServiceProviders:
    """``GET /v2.0/service-providers`` (service-type): the drivers behind the advanced services.
    Routers are the only one here, realised by the configured network plugin."""

    def __init__(self, plugin_name: str) -> None:
        self.providers = [{"service_type": "L3_ROUTER_NAT", "name": plugin_name, "default": True}]

    @schema("List the service providers", responses={200: {"type": "object", "required": ["service_providers"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        fields = [f for value in req.get_param_as_list("fields") or [] for f in value.split(",") if f]
        providers = [p for p in self.providers
                     if all(str(p.get(k)).lower() == str(v).lower() for k, v in req.params.items()
                            if k in ("service_type", "name", "default"))]
        resp.media = {"service_providers": [{k: v for k, v in p.items() if not fields or k in fields}
                                            for p in providers]}


class Resources:
    """``GET /v2.0``: the resources of the API, with a link to each collection (Neutron's)."""

    def __init__(self, resources: tuple[tuple[str, str], ...]) -> None:
        self.resources = resources

    @schema("The resources of the v2.0 API", responses={200: {"type": "object", "required": ["resources"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        root = f"{req.prefix.rstrip('/')}/v2.0"
        resp.media = {"resources": [{"name": name, "collection": collection,
                                     "links": [{"rel": "self", "href": f"{root}/{collection}"}]}
                                    for name, collection in self.resources]}
