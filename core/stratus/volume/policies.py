"""Default policy rules of the block-storage API (Cinder's names and defaults).

Members of the owning project create and change volumes and snapshots, readers read
them; administrators reset statuses, force deletes, manage volume types, quotas, services
and pools.
"""

from __future__ import annotations

from oslo_policy import policy

VOLUME = "/volumes/{volume_id}"


def _rule(name: str, check: str, description: str, method: str, path: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(name, check, description, [{"method": method, "path": path}])


RULES = [
    _rule("volume:create", "rule:admin_or_member", "Create a volume.", "POST", "/volumes"),
    _rule("volume:get_all", "rule:admin_or_reader", "List the project's volumes.", "GET", "/volumes"),
    _rule("volume:get", "rule:admin_or_reader", "Show a volume.", "GET", VOLUME),
    _rule("volume:update", "rule:admin_or_member", "Update a volume.", "PUT", VOLUME),
    _rule("volume:delete", "rule:admin_or_member", "Delete a volume.", "DELETE", VOLUME),
    _rule("volume:force_delete", "rule:admin", "Delete a volume whatever its status.", "POST",
          f"{VOLUME}/action (os-force_delete)"),
    _rule("volume:extend", "rule:admin_or_member", "Extend a volume.", "POST", f"{VOLUME}/action (os-extend)"),
    *(_rule(f"volume_extension:volume_image_metadata:{name}", check, what, "POST",
            f"{VOLUME}/action (os-{name}_image_metadata)") for name, check, what in (
        ("set", "rule:admin_or_member", "Set a volume's image metadata."),
        ("remove", "rule:admin_or_member", "Remove a key of a volume's image metadata."),
        ("show", "rule:admin_or_reader", "Show a volume's image metadata."))),
    _rule("volume_extension:volume_actions:upload_image", "rule:admin_or_member", "Copy a volume into a new image.",
          "POST", f"{VOLUME}/action (os-volume_upload_image)"),
    _rule("volume_extension:volume_actions:upload_public", "rule:admin",
          "Copy a volume into a new public image.", "POST", f"{VOLUME}/action (os-volume_upload_image)"),
    _rule("volume:revert_to_snapshot", "rule:admin_or_member", "Bring a volume back to its latest snapshot.",
          "POST", f"{VOLUME}/action (revert)"),
    _rule("volume_extension:volume_actions:initialize_connection", "rule:admin_or_member",
          "Learn how a host reaches a volume (its connection information).", "POST",
          f"{VOLUME}/action (os-initialize_connection)"),
    _rule("volume_extension:volume_actions:set_bootable", "rule:admin_or_member",
          "Mark a volume bootable or not.", "POST", f"{VOLUME}/action (os-set_bootable)"),
    *(_rule(f"volume_extension:volume_actions:{name}", "rule:admin_or_member", what, "POST",
            f"{VOLUME}/action (os-{name})") for name, what in (
        ("reserve", "Mark a volume as being attached."), ("unreserve", "Undo os-reserve."),
        ("attach", "Record that a host attached the volume."), ("begin_detaching", "Mark it as being detached."),
        ("roll_detaching", "Undo os-begin_detaching."), ("detach", "Record that a host detached it."),
        ("terminate_connection", "Stop exporting a volume to a host."))),
    _rule("volume:update_readonly_flag", "rule:admin_or_member", "Mark a volume read-only (it is then attached ro).",
          "POST", f"{VOLUME}/action (os-update_readonly_flag)"),
    _rule("volume_extension:volume_admin_actions:force_detach", "rule:admin",
          "Drop a volume's attachment whatever its status.", "POST", f"{VOLUME}/action (os-force_detach)"),
    _rule("volume_extension:volume_admin_actions:reset_status", "rule:admin", "Reset a volume's status.",
          "POST", f"{VOLUME}/action (os-reset_status)"),
    _rule("volume_extension:snapshot_admin_actions:reset_status", "rule:admin", "Reset a snapshot's status.",
          "POST", "/snapshots/{snapshot_id}/action (os-reset_status)"),
    _rule("snapshot_extension:snapshot_actions:update_snapshot_status", "rule:admin_or_member",
          "Report the progress of a snapshot the hypervisor takes (Nova's assisted snapshots).", "POST",
          "/snapshots/{snapshot_id}/action (os-update_snapshot_status)"),
    _rule("volume_extension:snapshot_admin_actions:force_delete", "rule:admin",
          "Delete a snapshot whatever its status.", "POST", "/snapshots/{snapshot_id}/action (os-force_delete)"),
    _rule("volume:create_volume_metadata", "rule:admin_or_member", "Set a volume's metadata.", "POST",
          f"{VOLUME}/metadata"),
    _rule("volume:get_volume_metadata", "rule:admin_or_reader", "Read a volume's metadata.", "GET",
          f"{VOLUME}/metadata"),
    _rule("volume:delete_volume_metadata", "rule:admin_or_member", "Delete a volume's metadata key.", "DELETE",
          f"{VOLUME}/metadata/{{key}}"),
    *(_rule(f"volume:attachment_{name}", check, what, method, path) for name, check, what, method, path in (
        ("create", "rule:admin_or_member", "Reserve a volume for a server (and export it).", "POST", "/attachments"),
        ("update", "rule:admin_or_member", "Export a reserved volume to a host.", "PUT",
         "/attachments/{attachment_id}"),
        ("complete", "rule:admin_or_member", "Mark an attachment attached.", "POST",
         "/attachments/{attachment_id}/action (os-complete)"),
        ("delete", "rule:admin_or_member", "Detach: stop the export and drop the attachment.", "DELETE",
         "/attachments/{attachment_id}"),
        ("get", "rule:admin_or_reader", "Show an attachment.", "GET", "/attachments/{attachment_id}"),
        ("get_all", "rule:admin_or_reader", "List the project's attachments.", "GET", "/attachments"))),
    _rule("volume:create_snapshot", "rule:admin_or_member", "Snapshot a volume.", "POST", "/snapshots"),
    _rule("volume:get_all_snapshots", "rule:admin_or_reader", "List the project's snapshots.", "GET",
          "/snapshots"),
    _rule("volume:get_snapshot", "rule:admin_or_reader", "Show a snapshot.", "GET", "/snapshots/{snapshot_id}"),
    _rule("volume:update_snapshot", "rule:admin_or_member", "Update a snapshot.", "PUT",
          "/snapshots/{snapshot_id}"),
    _rule("volume:delete_snapshot", "rule:admin_or_member", "Delete a snapshot.", "DELETE",
          "/snapshots/{snapshot_id}"),
    _rule("volume_extension:types_manage", "rule:admin", "Create, update and delete volume types.", "POST",
          "/types"),
    _rule("volume_extension:type_get_all", "@", "List volume types (public ones, and the project's).", "GET",
          "/types"),
    _rule("volume_extension:type_get", "@", "Show a volume type.", "GET", "/types/{type_id}"),
    _rule("volume_extension:types_extra_specs:index", "@", "Read a volume type's extra specs.", "GET",
          "/types/{type_id}/extra_specs"),
    _rule("volume_extension:types_extra_specs:read_sensitive", "rule:admin",
          "See the extra specs that name backends.", "GET", "/types/{type_id}/extra_specs"),
    _rule("volume_extension:volume_type_access", "rule:admin_or_member",
          "See a volume type's public flag.", "GET", "/types"),
    _rule("volume_extension:volume_type_access:addProjectAccess", "rule:admin",
          "Give a project a private volume type.", "POST", "/types/{type_id}/action (addProjectAccess)"),
    _rule("volume_extension:volume_type_access:removeProjectAccess", "rule:admin",
          "Take a private volume type from a project.", "POST", "/types/{type_id}/action (removeProjectAccess)"),
    _rule("volume_extension:volume_host_attribute", "rule:admin", "See the host a volume is on.", "GET",
          VOLUME),
    _rule("volume_extension:quotas:show", "rule:admin_or_reader", "Show a project's volume quotas.", "GET",
          "/os-quota-sets/{project_id}"),
    _rule("volume_extension:quotas:update", "rule:admin", "Set a project's volume quotas.", "PUT",
          "/os-quota-sets/{project_id}"),
    _rule("volume_extension:quotas:delete", "rule:admin", "Return a project's volume quotas to the defaults.",
          "DELETE", "/os-quota-sets/{project_id}"),
    _rule("volume_extension:services:index", "rule:admin", "List the volume services.", "GET", "/os-services"),
    _rule("scheduler_extension:scheduler_stats:get_pools", "rule:admin", "List the backends' pools.", "GET",
          "/scheduler-stats/get_pools"),
    _rule("volume_extension:availability_zone_list", "@", "List the volume availability zones.", "GET",
          "/os-availability-zone"),
    _rule("limits_extension:used_limits", "@", "Show the project's limits and use.", "GET", "/limits"),
]
