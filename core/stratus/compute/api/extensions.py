"""``/extensions`` (Nova v2.1): the legacy extension list clients still read. Nova froze its
list; here an extension is listed only when what it names is served (no ``os-rescue``,
``os-shelve``, ``os-volumes``, ... until those exist) or, as ``os-consoles``, answers as in
Nova (it removed that API: 410)."""

from __future__ import annotations

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute.api.common import context
from stratus.exceptions import NotFound

#: alias -> (name, what it adds)
EXTENSIONS = {
    "OS-DCF": ("DiskConfig", "Servers' and images' disk configuration (AUTO or MANUAL)."),
    "OS-EXT-AZ": ("ExtendedAvailabilityZone", "The availability zone of a server."),
    "OS-EXT-IMG-SIZE": ("ImageSize", "The size of images in image views."),
    "OS-EXT-IPS": ("ExtendedIps", "Whether a server's address is fixed or floating."),
    "OS-EXT-IPS-MAC": ("ExtendedIpsMac", "The MAC address behind each of a server's addresses."),
    "OS-EXT-SRV-ATTR": ("ExtendedServerAttributes", "Host, node and instance name of servers (administrators)."),
    "OS-EXT-STS": ("ExtendedStatus", "The vm, task and power states of servers."),
    "OS-FLV-DISABLED": ("FlavorDisabled", "Whether a flavor is disabled."),
    "OS-FLV-EXT-DATA": ("FlavorExtraData", "The ephemeral disk of flavors."),
    "OS-SCH-HNT": ("SchedulerHints", "Hints for the scheduler at server create."),
    "OS-SRV-USG": ("ServerUsage", "When a server was launched and terminated."),
    "os-access-ips": ("AccessIPs", "The IPv4 and IPv6 access addresses of servers."),
    "os-admin-actions": ("AdminActions", "Reset a server's state, refresh its network information."),
    "os-aggregates": ("Aggregates", "Host aggregates and their metadata."),
    "os-attach-interfaces": ("AttachInterfaces", "Attach and detach a server's network interfaces."),
    "os-availability-zone": ("AvailabilityZone", "The availability zones and their hosts."),
    "os-block-device-mapping": ("BlockDeviceMapping", "Block device mappings at server create."),
    "os-block-device-mapping-v2-boot": ("BlockDeviceMappingV2Boot", "Local disks from block_device_mapping_v2."),
    "os-config-drive": ("ConfigDrive", "Config drives for servers."),
    "os-console-output": ("ConsoleOutput", "A server's console log."),
    "os-consoles": ("Consoles", "Interactive Console support (removed: 410, as Nova)."),
    "os-create-backup": ("CreateBackup", "Back a server up into images, keeping the newest few."),
    "os-deferred-delete": ("DeferredDelete", "Restore or force the delete of a soft-deleted server."),
    "os-extended-floating-ips": ("ExtendedFloatingIps", "A fixed address for addFloatingIp."),
    "os-extended-hypervisors": ("ExtendedHypervisors", "More hypervisor details."),
    "os-extended-quotas": ("ExtendedQuotas", "Deleting a project's quotas."),
    "os-extended-services": ("ExtendedServices", "Disabling services with a reason."),
    "os-extended-services-delete": ("ExtendedServicesDelete", "Deleting services."),
    "os-extended-status": ("ExtendedStatus", "The vm, task and power states of servers."),
    "os-extended-volumes": ("ExtendedVolumes", "The volumes attached to a server (none until block storage)."),
    "os-flavor-access": ("FlavorAccess", "Private flavors shared with projects."),
    "os-flavor-extra-specs": ("FlavorExtraSpecs", "Flavors' extra specs."),
    "os-flavor-manage": ("FlavorManage", "Creating and deleting flavors."),
    "os-flavor-rxtx": ("FlavorRxtx", "The rxtx factor of flavors."),
    "os-flavor-swap": ("FlavorSwap", "The swap disk of flavors."),
    "os-floating-ip-pools": ("FloatingIpPools", "Floating IP pools (external networks)."),
    "os-floating-ips": ("FloatingIps", "Floating IPs through compute."),
    "os-hosts": ("Hosts", "Compute hosts and their resources."),
    "os-hypervisor-status": ("HypervisorStatus", "Hypervisors' status and state."),
    "os-hypervisors": ("Hypervisors", "Hypervisors and their resources."),
    "os-instance-actions": ("InstanceActions", "What was done to a server, with its events."),
    "os-instance_usage_audit_log": ("OSInstanceUsageAuditLog", "The instance usage audit's log."),
    "os-keypairs": ("Keypairs", "SSH key pairs."),
    "os-lock-server": ("LockServer", "Locking servers."),
    "os-migrate-server": ("MigrateServer", "Cold migration of servers."),
    "os-migrations": ("Migrations", "Resizes and migrations."),
    "os-multiple-create": ("MultipleCreate", "Several servers in one request."),
    "os-networks": ("Networks", "Networks through compute."),
    "os-pause-server": ("PauseServer", "Pausing servers."),
    "os-preserve-ephemeral-rebuild": ("PreserveEphemeralOnRebuild", "preserve_ephemeral at rebuild."),
    "os-quota-class-sets": ("QuotaClasses", "The default quotas."),
    "os-quota-sets": ("Quotas", "Projects' quotas."),
    "os-security-groups": ("SecurityGroups", "Security groups through compute."),
    "os-server-diagnostics": ("ServerDiagnostics", "A server's diagnostics from its hypervisor."),
    "os-server-external-events": ("ServerExternalEvents", "Events from other services about servers."),
    "os-server-group-quotas": ("ServerGroupQuotas", "Quotas of server groups."),
    "os-server-groups": ("ServerGroups", "Server groups (affinity and anti-affinity)."),
    "os-server-list-multi-status": ("ServerListMultiStatus", "Several statuses in one server list filter."),
    "os-server-password": ("ServerPassword", "A server's encrypted administrator password."),
    "os-server-sort-keys": ("ServerSortKeys", "Sorting server lists."),
    "os-server-start-stop": ("ServerStartStop", "Starting and stopping servers."),
    "os-services": ("Services", "The cloud's services."),
    "os-simple-tenant-usage": ("SimpleTenantUsage", "Projects' server usage over a period."),
    "os-suspend-server": ("SuspendServer", "Suspending servers."),
    "os-tenant-networks": ("OSTenantNetworks", "The project's networks through compute."),
    "os-used-limits": ("UsedLimits", "What a project uses in the limits view."),
    "os-used-limits-for-admin": ("UsedLimitsForAdmin", "Another project's usage for administrators."),
    "os-user-data": ("UserData", "User data for servers."),
}


def document(alias: str) -> dict[str, object]:
    name, description = EXTENSIONS[alias]
    return {"alias": alias, "name": name, "description": description, "links": [],
            "namespace": "http://docs.openstack.org/compute/ext/fake_xml", "updated": "2014-12-03T00:00:00Z"}


class Extensions:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    @schema("List the compute API's extensions", responses={200: {"type": "object", "required": ["extensions"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "os_compute_api:extensions", {"project_id": context(req).project_id})
        resp.media = {"extensions": [document(alias) for alias in EXTENSIONS]}


class Extension:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    @schema("Show one extension", responses={200: {"type": "object", "required": ["extension"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, alias: str) -> None:
        enforce(req, self.policy, "os_compute_api:extensions", {"project_id": context(req).project_id})
        if alias not in EXTENSIONS:
            raise NotFound(f"Extension {alias} could not be found.")
        resp.media = {"extension": document(alias)}
