"""Block-storage API app, mounted at ``/volume``; the catalog URL is ``/volume/v3/<project>``
(``/volume/v3`` without the project works too, as Cinder allows).

The advertised microversion range is the one really implemented: up to 3.44 (the
attachments API of 3.27 completed as Nova drives it). Of what 3.1-3.44 add, the resources
Stratus does not have (messages, groups, clusters, backups, manageable volumes, workers,
replication) are absent whatever the version; everything else behaves as the version
asked says (bootable filter 3.2, glance_metadata 3.4, cluster in services 3.7, group_id
3.10/3.13, summary 3.12/3.36, metadata ETags 3.15, provider_id 3.21, snapshot metadata
filter 3.22, delete force 3.23, pool filters 3.28/3.35, snapshot name sort 3.30, resource
filters 3.33, like filters 3.34, limits of a project 3.39, revert 3.40, user_id of
snapshots 3.41, extending in-use volumes 3.42).
"""

from __future__ import annotations

from stratus.api import versions
from stratus.api.app import ApiDeps, ServiceApp, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle
from stratus.api.microversions import Negotiation, Range, Version
from stratus.api.middleware import EmptyIdIsNotFound
from stratus.api.policy import Policy
from stratus.volume import policies
from stratus.volume.api import (
    attachments,
    backups,
    extensions,
    manage,
    metadata,
    quotas,
    services,
    snapshots,
    transfers,
    types,
    volumes,
)
from stratus.volume.api.common import ProjectInPath

SPEC = ServiceSpec("volume", "/volume", "block-storage", ErrorStyle.COMPUTE)

MIN_MICROVERSION = "3.0"
MAX_MICROVERSION = "3.44"
RANGE = Range("volume", Version(MIN_MICROVERSION), Version(MAX_MICROVERSION))

V3 = versions.Version(
    id="v3.0", path="v3", status="CURRENT", updated="2017-09-01T00:00:00Z",
    media_type="application/vnd.openstack.volume+json;version=3",
    version=MAX_MICROVERSION, min_version=MIN_MICROVERSION,
)


def create_app(deps: ApiDeps) -> ServiceApp:
    app = create_service_app(SPEC, deps, [EmptyIdIsNotFound(), ProjectInPath(), Negotiation(RANGE, "/v3/")])
    app.add_route("/", versions.VersionDocument(
        deps.conf, lambda root: (300, {"versions": [V3.document(root)]}),
        "Block Storage API versions", versions.VERSIONS_LIST_SCHEMA,
    ))
    app.add_route("/v3", versions.VersionDocument(
        deps.conf, lambda root: (200, {"versions": [V3.document(root)]}),
        "Block Storage v3 version document (as Cinder, a list)", versions.VERSIONS_LIST_SCHEMA,
    ))
    service = deps.services.get("volume")
    if service is not None:
        policy = Policy(deps.conf, policies.RULES)
        app.add_route("/v3/volumes", volumes.Volumes(service, policy, detail=False))
        app.add_route("/v3/volumes/detail", volumes.Volumes(service, policy, detail=True), methods=("GET",))
        app.add_route("/v3/volumes/summary", volumes.VolumeSummary(service, policy))
        app.add_route("/v3/volumes/{volume_id}", volumes.VolumeItem(service, policy))
        app.add_route("/v3/attachments", attachments.AttachmentList(service, policy, detailed=False))
        app.add_route("/v3/attachments/detail", attachments.AttachmentList(service, policy, detailed=True),
                      methods=("GET",))
        app.add_route("/v3/attachments/{attachment_id}", attachments.AttachmentItem(service, policy))
        app.add_route("/v3/attachments/{attachment_id}/action", attachments.AttachmentAction(service, policy))
        app.add_route("/v3/volumes/{volume_id}/action", volumes.VolumeAction(service, policy))
        app.add_route("/v3/volumes/{volume_id}/metadata", metadata.VolumeMetadata(service, policy))
        app.add_route("/v3/volumes/{volume_id}/metadata/{key}", metadata.VolumeMetadataItem(service, policy),
                      methods=("GET", "PUT", "DELETE"))
        app.add_route("/v3/snapshots", snapshots.Snapshots(service, policy, detail=False))
        app.add_route("/v3/snapshots/detail", snapshots.Snapshots(service, policy, detail=True), methods=("GET",))
        app.add_route("/v3/snapshots/{snapshot_id}", snapshots.SnapshotItem(service, policy))
        app.add_route("/v3/snapshots/{snapshot_id}/action", snapshots.SnapshotAction(service, policy))
        app.add_route("/v3/snapshots/{snapshot_id}/metadata", metadata.SnapshotMetadata(service, policy))
        app.add_route("/v3/snapshots/{snapshot_id}/metadata/{key}", metadata.SnapshotMetadataItem(service, policy),
                      methods=("GET", "PUT", "DELETE"))
        app.add_route("/v3/types", types.Types(service, policy))
        app.add_route("/v3/types/{type_id}", types.TypeItem(service, policy))
        app.add_route("/v3/types/{type_id}/extra_specs", types.ExtraSpecs(service, policy), methods=("GET", "POST"))
        app.add_route("/v3/types/{type_id}/extra_specs/{key}", types.ExtraSpecs(service, policy),
                      methods=("GET", "PUT", "DELETE"))
        app.add_route("/v3/types/{type_id}/action", types.TypeAction(service, policy))
        app.add_route("/v3/types/{type_id}/os-volume-type-access", types.TypeAccess(service, policy))
        app.add_route("/v3/os-quota-sets/{project_id}", quotas.QuotaSet(service, policy))
        app.add_route("/v3/os-quota-sets/{project_id}/defaults", quotas.QuotaSet(service, policy, "defaults"),
                      methods=("GET",))
        app.add_route("/v3/limits", quotas.Limits(service, policy))
        app.add_route("/v3/os-quota-class-sets/{class_name}", quotas.QuotaClassSet(service, policy))
        app.add_route("/v3/os-availability-zone", services.AvailabilityZones(service, policy))
        app.add_route("/v3/os-services", services.Services(service, policy, service.registry))
        app.add_route("/v3/os-services/{action}", services.ServiceChange(service, policy, service.registry))
        app.add_route("/v3/scheduler-stats/get_pools", services.Pools(service, policy))
        app.add_route("/v3/resource_filters", services.ResourceFilters(policy))
        app.add_route("/v3/extensions", extensions.Extensions(policy))
        app.add_route("/v3/os-volume-manage", manage.ManageVolumes(service, policy))
        app.add_route("/v3/backups", backups.Backups(service, policy, detail=False))
        app.add_route("/v3/backups/detail", backups.Backups(service, policy, detail=True), methods=("GET",))
        app.add_route("/v3/backups/{backup_id}", backups.BackupItem(service, policy))
        app.add_route("/v3/backups/{backup_id}/restore", backups.BackupRestore(service, policy))
        app.add_route("/v3/backups/{backup_id}/action", backups.BackupAction(service, policy))
        app.add_route("/v3/os-volume-transfer", transfers.TransferList(service, policy, detail=False))
        app.add_route("/v3/os-volume-transfer/detail", transfers.TransferList(service, policy, detail=True),
                      methods=("GET",))
        app.add_route("/v3/os-volume-transfer/{transfer_id}", transfers.TransferItem(service, policy))
        app.add_route("/v3/os-volume-transfer/{transfer_id}/accept", transfers.TransferAccept(service, policy))
    return finish(app)
