"""The conformance kit's image-store suite against the swift store and a real Swift."""

from __future__ import annotations

import pytest

from stratus import conformance
from tests.conftest import store_conf


@pytest.mark.parametrize("segmented", [False, True], ids=["single-objects", "slo-segments"])
def test_the_swift_store_passes_the_image_store_suite(swift, tmp_path, segmented):
    options = {"large_object_size": 1, "large_object_chunk_size": 1} if segmented else {}
    config = store_conf(tmp_path / "swift.conf", swift, tmp_path, container=f"conf{int(segmented)}", **options)
    outcome = conformance.run("stratus.image_store:swift", str(config))
    assert outcome.ok and (outcome.passed, outcome.skipped) == (23, 0), outcome
