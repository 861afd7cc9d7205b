"""The conformance kit's image-store and backup-target suites against the swift store and
backup target and a real Swift."""

from __future__ import annotations

import pytest

from stratus import conformance
from tests import swift as swift_fixture
from tests.conftest import backup_conf, store_conf


@pytest.mark.parametrize("segmented", [False, True], ids=["single-objects", "slo-segments"])
def test_the_swift_store_passes_the_image_store_suite(swift, tmp_path, segmented):
    options = {"large_object_size": 1, "large_object_chunk_size": 1} if segmented else {}
    config = store_conf(tmp_path / "swift.conf", swift, tmp_path, container=f"conf{int(segmented)}", **options)
    outcome = conformance.run("stratus.image_store:swift", str(config))
    assert outcome.ok and (outcome.passed, outcome.skipped) == (23, 0), outcome


def test_the_swift_backup_target_passes_the_backup_target_suite(swift, tmp_path):
    config = backup_conf(tmp_path / "backup.conf", tmp_path, auth_version="1", auth_address=swift.auth_url,
                         user=swift_fixture.TEMPAUTH_USER, key=swift_fixture.TEMPAUTH_KEY, container="backups")
    outcome = conformance.run("stratus.backup_target:swift", str(config))
    assert outcome.ok and (outcome.passed, outcome.skipped) == (12, 0), outcome  # 7 common + 5 backup target
