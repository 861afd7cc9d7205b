"""Default policy rules of the image API.

Visibility (own, public, community, shared with one's project) decides which images a
caller sees; these rules decide what a caller may do: members of the owning project write,
readers read, only administrators publish images to everyone or copy them between stores,
members of the owning project deactivate and reactivate them (Glance's default), and members
of a project accept or reject what is shared with it.
"""

from __future__ import annotations

from oslo_policy import policy

IMAGE = "/v2/images/{image_id}"


def _rule(name: str, check: str, description: str, method: str, path: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(f"image:{name}", check, description, [{"method": method, "path": path}])


RULES = [
    _rule("add_image", "rule:admin_or_member", "Create an image in one's project.", "POST", "/v2/images"),
    _rule("publicize_image", "rule:admin", "Make an image public.", "PATCH", IMAGE),
    _rule("communitize_image", "rule:admin_or_member", "Make an image community (usable by id by anyone).",
          "PATCH", IMAGE),
    _rule("get_images", "rule:admin_or_reader", "List visible images.", "GET", "/v2/images"),
    _rule("get_image", "rule:admin_or_reader", "Show a visible image.", "GET", IMAGE),
    _rule("modify_image", "rule:admin_or_member", "Update an image of one's project (attributes, tags).",
          "PATCH", IMAGE),
    _rule("delete_image", "rule:admin_or_member", "Delete an image of one's project.", "DELETE", IMAGE),
    _rule("upload_image", "rule:admin_or_member", "Upload or stage data for an image of one's project.", "PUT",
          f"{IMAGE}/file"),
    _rule("download_image", "rule:admin_or_reader", "Download a visible image's data.", "GET", f"{IMAGE}/file"),
    _rule("import_image", "rule:admin_or_member", "Import data into an image of one's project.", "POST",
          f"{IMAGE}/import"),
    _rule("copy_image", "rule:admin", "Copy an active image into more stores (copy-image import).", "POST",
          f"{IMAGE}/import"),
    _rule("add_image_location", "rule:admin_or_member",
          "Register data a store can read (e.g. an http URL) for a queued image of one's project.", "POST",
          f"{IMAGE}/locations"),
    _rule("get_image_locations", "rule:admin", "List where an image's data is stored.", "GET",
          f"{IMAGE}/locations"),
    _rule("delete_image_location", "rule:admin", "Delete an image's data from one of its stores.", "DELETE",
          "/v2/stores/{store_id}/{image_id}"),
    _rule("stores_info_detail", "rule:admin", "Show the image stores' drivers and properties.", "GET",
          "/v2/info/stores/detail"),
    _rule("get_usage", "rule:admin_or_reader", "Show one's project's image quota usage.", "GET", "/v2/info/usage"),
    _rule("deactivate", "rule:admin or (role:member and project_id:%(project_id)s)",
          "Deactivate an image (administrators, or members of the owning project as Glance's default).", "POST",
          f"{IMAGE}/actions/deactivate"),
    _rule("reactivate", "rule:admin or (role:member and project_id:%(project_id)s)",
          "Reactivate an image (administrators, or members of the owning project).", "POST",
          f"{IMAGE}/actions/reactivate"),
    _rule("tasks_api_access", "rule:admin", "Use the tasks API at all.", "GET", "/v2/tasks"),
    _rule("add_task", "rule:admin", "Create a task (an import from a URL).", "POST", "/v2/tasks"),
    _rule("get_tasks", "rule:admin", "List tasks.", "GET", "/v2/tasks"),
    _rule("get_task", "rule:admin", "Show a task.", "GET", "/v2/tasks/{task_id}"),
    _rule("add_member", "rule:admin_or_member", "Share an image of one's project with another project.", "POST",
          f"{IMAGE}/members"),
    _rule("get_members", "rule:admin_or_reader", "List an image's members.", "GET", f"{IMAGE}/members"),
    _rule("get_member", "rule:admin_or_reader", "Show one member of an image.", "GET",
          f"{IMAGE}/members/{{member_id}}"),
    _rule("modify_member", "rule:admin_or_member", "Accept or reject an image shared with one's project.", "PUT",
          f"{IMAGE}/members/{{member_id}}"),
    _rule("delete_member", "rule:admin_or_member", "Stop sharing an image of one's project.", "DELETE",
          f"{IMAGE}/members/{{member_id}}"),
]

_METADEFS = "/v2/metadefs/namespaces"
for _action, _method, _path, _read in (
        ("get_metadef_namespaces", "GET", _METADEFS, True), ("add_metadef_namespace", "POST", _METADEFS, False),
        ("get_metadef_namespace", "GET", f"{_METADEFS}/{{namespace}}", True),
        ("modify_metadef_namespace", "PUT", f"{_METADEFS}/{{namespace}}", False),
        ("delete_metadef_namespace", "DELETE", f"{_METADEFS}/{{namespace}}", False),
        *((f"{verb}_metadef_{noun}", method, f"{_METADEFS}/{{namespace}}/{plural}{suffix}", verb == "get")
          for noun, plural in (("property", "properties"), ("object", "objects"), ("tag", "tags"))
          for verb, method, suffix in (("get", "GET", "/{name}"), ("add", "POST", ""), ("modify", "PUT", "/{name}"),
                                       ("remove", "DELETE", "/{name}"))),
        ("get_metadef_properties", "GET", f"{_METADEFS}/{{namespace}}/properties", True),
        ("get_metadef_objects", "GET", f"{_METADEFS}/{{namespace}}/objects", True),
        ("get_metadef_tags", "GET", f"{_METADEFS}/{{namespace}}/tags", True),
        ("add_metadef_tags", "POST", f"{_METADEFS}/{{namespace}}/tags", False),
        ("list_metadef_resource_types", "GET", "/v2/metadefs/resource_types", True),
        ("get_metadef_resource_type", "GET", f"{_METADEFS}/{{namespace}}/resource_types", True),
        ("add_metadef_resource_type_association", "POST", f"{_METADEFS}/{{namespace}}/resource_types", False),
        ("remove_metadef_resource_type_association", "DELETE", f"{_METADEFS}/{{namespace}}/resource_types/{{name}}",
         False)):
    RULES.append(_rule(_action, "" if _read else "rule:admin",
                       "Read metadata definitions (public ones, and one's project's)." if _read
                       else "Write metadata definitions (administrators, as Glance's metadef_admin).", _method, _path))
