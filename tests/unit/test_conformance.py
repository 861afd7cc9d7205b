"""The conformance kit, run as a driver vendor runs it: pytest -p stratus.conformance ..."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.fixtures import distribution


def run_kit(site, *args, cwd):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([site, distribution.FIXTURES, os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "stratus.conformance", "-q", "-rfs",
                           "-p", "no:cacheprovider", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def site(tmp_path):
    directory = str(tmp_path / "site")
    os.makedirs(directory)
    return distribution.write_distribution(directory, "stratus-dummy", distribution.DUMMY_ENTRY_POINTS)


def test_a_conforming_driver_passes_the_suite(site, tmp_path):
    config = tmp_path / "memory.conf"
    config.write_text("[dummy]\npool = fast\n")
    result = run_kit(site, "--stratus-driver", "stratus.volume:memory", "--stratus-config", str(config),
                     cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # the common suite and the volume-backend suite, less what the dummy does not declare
    assert "20 passed, 4 skipped" in result.stdout


def test_a_driver_registering_unlisted_options_fails(site, tmp_path):
    result = run_kit(site, "--stratus-driver", "stratus.volume:hidesoptions", cwd=tmp_path)
    assert result.returncode == 1
    assert "FAILED" in result.stdout and "test_options_registered_at_load_are_in_the_sample_too" in result.stdout
    assert "[hidden] secret_knob registered by the driver but not listed" in result.stdout


def test_a_driver_hiding_a_capability_fails_the_cross_check(site, tmp_path):
    result = run_kit(site, "--stratus-driver", "stratus.volume:hidessnapshot", cwd=tmp_path)
    assert result.returncode == 1
    assert "FAILED" in result.stdout and "test_declared_capabilities_match_implemented_interfaces" in result.stdout
    assert "SNAPSHOT declared=False but Snapshots implemented=True" in result.stdout


def test_a_driver_the_loader_refuses_fails_the_suite(site, tmp_path):
    result = run_kit(site, "--stratus-driver", "stratus.volume:incomplete", cwd=tmp_path)
    assert result.returncode == 1
    assert "does not implement: copy_image_to_volume" in result.stdout


def test_capability_marker_skips_only_undeclared_capabilities(site, tmp_path):
    tests = tmp_path / "test_vendor.py"
    tests.write_text(
        "import pytest\n"
        "@pytest.mark.requires_capability('SNAPSHOT')\n"
        "def test_snapshot(driver):\n    assert driver.snapshots == {}\n"
        "@pytest.mark.requires_capability('CLONE')\n"
        "def test_clone(driver):\n    raise AssertionError('must be skipped')\n"
    )
    result = run_kit(site, "--stratus-driver", "stratus.volume:memory", str(tests), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "21 passed, 5 skipped" in result.stdout
    assert "driver 'memory' does not declare CLONE" in result.stdout


def test_bad_arguments_are_usage_errors(site, tmp_path):
    result = run_kit(site, "--stratus-driver", "volume-lvm", cwd=tmp_path)
    assert result.returncode == 4 and "expected NAMESPACE:NAME" in result.stderr
    result = run_kit(site, "--stratus-driver", "stratus.volume:memory", "--stratus-config", "nope.conf",
                     cwd=tmp_path)
    assert result.returncode == 4 and "no such file" in result.stderr


def test_the_sql_auth_backend_passes_the_auth_suite(tmp_path):
    from tests.functional.servers import run

    config = tmp_path / "sql.conf"
    config.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n"
                      f"[database]\nconnection = sqlite:///{tmp_path}/identity.sqlite\n"
                      "[identity]\nargon2_memory_cost = 8192\nargon2_time_cost = 1\n")
    for command in (("manage", "token-keys", "setup"), ("manage", "db", "sync"),
                    ("manage", "bootstrap", "--password", "pw", "--public-url", "http://127.0.0.1")):
        assert run("--config-file", str(config), *command).returncode == 0
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "stratus.conformance", "-q", "-rfs",
                             "-p", "no:cacheprovider", "--stratus-driver", "stratus.auth:sql",
                             "--stratus-config", str(config)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.splitlines()[-1]
    assert summary.startswith("20 passed") and "skipped" not in summary, summary  # 7 common + 13 auth


def run_suite(driver, config, cwd):
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "stratus.conformance", "-q", "-rfs",
                             "-p", "no:cacheprovider", "--stratus-driver", driver, "--stratus-config", str(config)],
                            cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()[-1]


def test_the_file_volume_backend_passes_the_volume_backend_suite(tmp_path):
    from stratus import conformance

    config = tmp_path / "file.conf"
    config.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[conformance]\ndatadir = {tmp_path}/volumes\n")
    outcome = conformance.run("stratus.volume:file", str(config))
    assert outcome.ok and (outcome.passed, outcome.skipped) == (24, 0), outcome  # 7 common + 17 volume
    assert not os.listdir(tmp_path / "volumes"), "the suite left volumes or temporary files behind"


def test_the_file_backup_target_passes_the_backup_target_suite(tmp_path):
    from stratus import conformance

    config = tmp_path / "file.conf"
    config.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[backup]\nfile_dir = {tmp_path}/backups\n")
    outcome = conformance.run("stratus.backup_target:file", str(config))
    assert outcome.ok and (outcome.passed, outcome.skipped) == (12, 0), outcome  # 7 common + 5 backup target
    assert not os.listdir(tmp_path / "backups"), "the suite left backups behind"


def test_the_disk_object_backend_passes_the_object_backend_suite(tmp_path):
    from stratus import conformance

    config = tmp_path / "disk.conf"
    config.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[object_disk]\ndirectory = {tmp_path}/objects\n")
    outcome = conformance.run("stratus.object_backend:disk", str(config))
    assert outcome.ok and (outcome.passed, outcome.skipped) == (20, 0), outcome  # 7 common + 13 object backend
    left = [p for p in (tmp_path / "objects").rglob("*") if p.is_file()]
    assert not left, f"the suite left object data behind: {left}"


def test_the_file_image_store_passes_the_image_store_suite(tmp_path):
    config = tmp_path / "file.conf"
    config.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[conformance]\ndatadir = {tmp_path}/images\n")
    summary = run_suite("stratus.image_store:file", config, tmp_path)
    assert summary.startswith("23 passed") and "skipped" not in summary, summary  # 7 common + 16 store
    assert not [n for n in os.listdir(tmp_path / "images")], "the suite left data or temporary files behind"


def test_the_http_image_store_passes_the_read_only_part(tmp_path):
    import hashlib

    from tests.fixtures import file_server

    data = os.urandom(2 * 1024 * 1024 + 7)
    (tmp_path / "image.raw").write_bytes(data)
    with file_server.serve(tmp_path) as base_url:
        config = tmp_path / "http.conf"
        config.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[conformance_data]\n"
                          f"location = {base_url}/image.raw\nsize = {len(data)}\n"
                          f"sha256 = {hashlib.sha256(data).hexdigest()}\n")
        summary = run_suite("stratus.image_store:http", config, tmp_path)
    assert summary.startswith("19 passed, 4 skipped"), summary  # the 4 WRITE tests skip: http is read-only


def test_the_logical_network_plugin_passes_the_network_suite(tmp_path):
    config = tmp_path / "logical.conf"
    config.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n")
    summary = run_suite("stratus.network:logical", config, tmp_path)
    assert summary.startswith("12 passed, 1 skipped"), summary  # 7 common + 5 plugin; DATA_PLANE skips: no plugging


def test_the_fake_hypervisor_passes_the_hypervisor_suite(tmp_path):
    config = tmp_path / "fake.conf"
    config.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n")
    summary = run_suite("stratus.hypervisor:fake", config, tmp_path)
    assert summary.startswith("27 passed") and "skipped" not in summary, summary  # 7 common + 20 hypervisor


def test_every_standard_filter_and_weigher_passes_the_scheduler_suite(tmp_path):
    from stratus.scheduler import filters, weighers

    config = tmp_path / "scheduler.conf"
    config.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n")
    for namespace, module, expected in (("stratus.scheduler.filters", filters, "10 passed, 2 skipped"),
                                        ("stratus.scheduler.weighers", weighers, "9 passed, 3 skipped")):
        names = [n for n, cls in vars(module).items() if isinstance(cls, type) and cls.__module__ == module.__name__
                 and not n.startswith("_")]
        assert len(names) >= 4
        for name in names:
            summary = run_suite(f"{namespace}:{name}", config, tmp_path)
            assert summary.startswith(expected), f"{name}: {summary}"


def test_the_kit_runs_in_process_and_reports_each_failure(dummy_distribution, tmp_path):
    from stratus import conformance

    config = tmp_path / "memory.conf"
    config.write_text("[dummy]\npool = fast\n")
    good = conformance.run("stratus.volume:memory", str(config))
    assert good.ok and (good.passed, good.failed, good.skipped) == (20, 0, 4), good
    bad = conformance.run("stratus.volume:hidessnapshot")
    assert not bad.ok and bad.failed == 1, bad
    assert "test_declared_capabilities_match_implemented_interfaces" in bad.failures[0]
    assert "SNAPSHOT declared=False but Snapshots implemented=True" in bad.failures[0]
