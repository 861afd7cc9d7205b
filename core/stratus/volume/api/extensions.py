"""``/v3/{project_id}/extensions``: Cinder's legacy extension list, naming what this block
storage really serves (clients and tempest look features up here)."""

from __future__ import annotations

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.volume.api.common import context

UPDATED = "2017-09-01T00:00:00+00:00"
#: alias -> (name, what it gives)
EXTENSIONS = {
    "os-admin-actions": ("AdminActions", "Reset statuses, force deletes and detaches."),
    "os-availability-zone": ("AvailabilityZones", "Describe the volume availability zones."),
    "os-extended-snapshot-attributes": ("ExtendedSnapshotAttributes", "A snapshot's progress and project."),
    "os-quota-sets": ("Quotas", "Quota management."),
    "os-services": ("Services", "Volume services: list, enable, disable."),
    "os-snapshot-actions": ("SnapshotActions", "Snapshot status updates."),
    "os-types-extra-specs": ("TypesExtraSpecs", "Volume type extra specs."),
    "os-types-manage": ("TypesManage", "Create, update and delete volume types."),
    "os-used-limits": ("UsedLimits", "The project's use beside its limits."),
    "os-vol-host-attr": ("VolumeHostAttribute", "The host a volume is on, for administrators."),
    "os-vol-image-meta": ("VolumeImageMetadata", "The image metadata of volumes made from images."),
    "os-vol-mig-status-attr": ("VolumeMigStatusAttribute", "A volume's migration status."),
    "os-vol-tenant-attr": ("VolumeTenantAttribute", "The project owning a volume."),
    "os-volume-actions": ("VolumeActions", "Attach, detach, extend, upload, retype and other volume actions."),
    "os-volume-transfer": ("VolumeTransfer", "Give volumes to other projects."),
    "os-volume-manage": ("VolumeManage", "Adopt a backend's storage as a volume."),
    "os-volume-unmanage": ("VolumeUnmanage", "Let a volume go, keeping its data."),
    "os-volume-type-access": ("VolumeTypeAccess", "Private volume types shared with projects."),
    "scheduler-stats": ("Scheduler_stats", "The backends' pools."),
}


class Extensions:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    @schema("The block-storage extensions this cloud serves", responses={200: {"type": "object",
                                                                             "required": ["extensions"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "volume_extension:extensions:list", {"project_id": context(req).project_id})
        resp.media = {"extensions": [{"alias": alias, "name": name, "description": description, "links": [],
                                      "updated": UPDATED, "namespace": f"https://docs.openstack.org/{alias}"}
                                     for alias, (name, description) in sorted(EXTENSIONS.items())]}
