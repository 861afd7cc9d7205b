"""Default policy rules of the image API.

Visibility (own, public, community) decides which images a caller sees; these rules decide
what a caller may do: members of the owning project write, readers read, and only
administrators publish images to everyone.
"""

from __future__ import annotations

from oslo_policy import policy


def _rule(name: str, check: str, description: str, method: str, path: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(f"image:{name}", check, description, [{"method": method, "path": path}])


RULES = [
    _rule("add_image", "rule:admin_or_member", "Create an image in one's project.", "POST", "/v2/images"),
    _rule("publicize_image", "rule:admin", "Create or make an image public.", "POST", "/v2/images"),
    _rule("get_images", "rule:admin_or_reader", "List visible images.", "GET", "/v2/images"),
    _rule("get_image", "rule:admin_or_reader", "Show a visible image.", "GET", "/v2/images/{image_id}"),
    _rule("delete_image", "rule:admin_or_member", "Delete an image of one's project.", "DELETE",
          "/v2/images/{image_id}"),
    _rule("upload_image", "rule:admin_or_member", "Upload data to an image of one's project.", "PUT",
          "/v2/images/{image_id}/file"),
    _rule("download_image", "rule:admin_or_reader", "Download a visible image's data.", "GET",
          "/v2/images/{image_id}/file"),
]
