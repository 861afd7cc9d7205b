"""The tempest harness's checked-in parts: the exclusion file's format and honesty, and
which tests each pass runs."""

from __future__ import annotations

import re
from pathlib import Path

from tests.tempest import run

README = Path(__file__).resolve().parents[2] / "README.md"


def exclusions() -> list[tuple[str, str]]:
    entries = []
    for line in run.EXCLUDE.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        regex, sep, reason = line.partition("  # ")
        assert sep and regex.strip() and reason.strip(), f"an exclusion needs a regex and '  # why': {line!r}"
        entries.append((regex.strip(), reason.strip()))
    return entries


def test_every_exclusion_is_a_regex_with_an_allowed_reason():
    for regex, reason in exclusions():
        re.compile(regex)
        assert regex.startswith(r"^tempest\.api\."), regex
        assert reason.endswith(": not provided yet") or "this machine" in reason, reason


def test_every_surface_excluded_as_not_provided_is_listed_so_in_the_readme():
    readme = README.read_text()
    section = readme[readme.index("### Not provided yet"):]
    for _, reason in exclusions():
        if reason.endswith(": not provided yet"):
            surface = reason.removesuffix(": not provided yet")
            assert surface in section, f"README's 'Not provided yet' does not list {surface!r}"


def test_the_passes_split_tempests_image_tests_by_store_count():
    multistore = re.compile(run.MULTISTORE_TESTS)
    for name in ("tempest.api.image.v2.admin.test_images.ImportCopyImagesTest.test_image_copy_image_import",
                 "tempest.api.image.v2.test_images.MultiStoresImportImagesTest.test_glance_direct_import_image",
                 "tempest.api.image.v2.admin.test_images.MultiStoresImagesTest.test_delete_image_from_store"):
        assert multistore.search(name), name
    for name in ("tempest.api.image.v2.test_images.ImportImagesTest.test_image_glance_direct_import",
                 "tempest.api.image.v2.admin.test_images.BasicOperationsImagesAdminTest.test_create_image_owner_param"):
        assert not multistore.search(name), name


def test_only_the_catalogs_services_are_run():
    regex = re.compile(run.tempest_regex({"identity", "image", "dns"}))
    assert regex.search("tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token")
    assert regex.search("tempest.api.image.v2.test_images.BasicOperationsImagesTest.test_delete_image")
    assert not regex.search("tempest.api.compute.servers.test_servers.ServersTestJSON.test_create_server")
    assert not regex.search("tempest.api.volume.test_volumes_get.VolumesGetTest.test_volume_create_get_update_delete")
