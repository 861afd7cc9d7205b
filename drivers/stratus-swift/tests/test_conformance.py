"""The conformance kit's image-store suite against the swift store and a real Swift."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import store_conf


def run_suite(config, cwd) -> str:
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "stratus.conformance", "-p", "no:cacheprovider",
                             "--stratus-driver", "stratus.image_store:swift", "--stratus-config", str(config), "-q"],
                            capture_output=True, text=True, cwd=cwd, timeout=600)
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr


@pytest.mark.parametrize("segmented", [False, True], ids=["single-objects", "slo-segments"])
def test_the_swift_store_passes_the_image_store_suite(swift, tmp_path, segmented):
    options = {"large_object_size": 1, "large_object_chunk_size": 1} if segmented else {}
    config = store_conf(tmp_path / "swift.conf", swift, tmp_path, container=f"conf{int(segmented)}", **options)
    summary = run_suite(config, tmp_path)
    assert summary.startswith("23 passed") and "skipped" not in summary, summary
