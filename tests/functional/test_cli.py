"""The `stratus` command as an operator uses it."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from stratus.db import migration
from tests.fixtures import distribution
from tests.functional.servers import env_with, run, stratus_command


@pytest.fixture
def site(tmp_path):
    directory = str(tmp_path / "site")
    distribution.write_distribution(directory, "stratus-dummy", distribution.DUMMY_ENTRY_POINTS)
    return env_with(directory, distribution.FIXTURES)


def write_conf(tmp_path, text):
    path = tmp_path / "stratus.conf"
    path.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n{text}")
    return str(path)


def test_drivers_lists_each_namespace_with_distribution_status_and_capabilities(site):
    result = run("drivers", env=site)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "stratus.hypervisor" in lines and "stratus.object_backend" in lines
    disk = next(line for line in lines if line.split()[:1] == ["disk"])
    assert disk.split()[2:4] == ["0.1.0.dev0", "supported"] and disk.endswith("SERVER_SIDE_COPY")
    memory = next(line for line in lines if line.split()[:1] == ["memory"])
    assert memory.split()[1:4] == ["stratus-dummy", "1.0", "supported"]
    assert memory.endswith("SNAPSHOT, THIN_PROVISIONING")
    broken = next(line for line in lines if line.split()[:1] == ["broken"])
    assert "BROKEN:" in broken and "stratus_dummy_missing_dependency" in broken


def test_drivers_json_is_machine_readable(site):
    rows = json.loads(run("drivers", "--json", env=site).stdout)
    memory = next(r for r in rows if r["name"] == "memory")
    assert memory["namespace"] == "stratus.volume" and memory["distribution"] == "stratus-dummy"


def test_drivers_check_loads_what_the_configuration_selects(site, tmp_path):
    conf = write_conf(tmp_path, "[dummy_slot]\nbackend = memory\n")
    result = run("--config-file", conf, "drivers", "--check", env=site)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = "ok    [dummy_slot] backend = memory (stratus.volume; supported; SNAPSHOT, THIN_PROVISIONING)"
    assert expected in result.stdout
    assert "ok    plugin dummy-plugin" in result.stdout and "ok    plugin log-notifier" in result.stdout


@pytest.mark.parametrize(("backend", "expected"), [
    ("lvmm", "no 'stratus.volume' driver named 'lvmm'; installed: broken, claimsclone"),
    ("broken", "from distribution 'stratus-dummy' failed to load: ModuleNotFoundError"),
    ("needsdaemon", "missing the dummy storage daemon: install dummy-storaged and start it"),
])
def test_drivers_check_reports_a_driver_that_would_not_load(site, tmp_path, backend, expected):
    conf = write_conf(tmp_path, f"[dummy_slot]\nbackend = {backend}\n")
    result = run("--config-file", conf, "drivers", "--check", env=site)
    assert result.returncode == 1
    assert "FAIL  [dummy_slot] backend" in result.stdout and expected in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_config_check_names_each_bad_option_and_the_file(tmp_path):
    conf = write_conf(tmp_path, "[api]\nport = http\n[messaging]\ntransport_url = rabbit:/x\n")
    result = run("--config-file", conf, "config", "check")
    assert result.returncode == 2
    assert f"[api] port (set in {conf}): " in result.stderr
    assert f"[messaging] transport_url (set in {conf}): 'rabbit:/x' is not a transport URL" in result.stderr
    assert "Traceback" not in result.stderr
    assert run("--config-file", write_conf(tmp_path, ""), "config", "check").stdout == "configuration is valid\n"


def test_unknown_sections_are_warned_about(tmp_path):
    conf = write_conf(tmp_path, "[databse]\nconnection = sqlite://\n[oslo_policy]\npolicy_file = p.yaml\n")
    result = run("--config-file", conf, "config", "check")
    assert result.returncode == 0
    assert "no installed part of Stratus reads section [databse]" in result.stderr
    assert "[oslo_policy]" not in result.stderr


def test_missing_config_file_is_a_clear_error(tmp_path):
    result = run("--config-file", str(tmp_path / "absent.conf"), "config", "check")
    assert result.returncode == 2 and "configuration file not found" in result.stderr


def test_config_sample_includes_installed_driver_groups_unless_core_only(site):
    full = run("config", "sample", env=site).stdout
    assert "[dummy_slot]" in full and "[database]" in full and "[oslo_policy]" in full
    core = run("config", "sample", "--core-only", env=site).stdout
    assert "[dummy_slot]" not in core and "[database]" in core


def test_manage_db_sync_and_version(tmp_path):
    conf = write_conf(tmp_path, f"[database]\nconnection = sqlite:///{tmp_path}/s.sqlite\n")
    assert "needs `stratus manage db sync`" in run("--config-file", conf, "manage", "db", "version").stdout
    synced = run("--config-file", conf, "manage", "db", "sync")
    assert synced.returncode == 0
    heads = {service: migration.head(service) for service in ("servicegroup", "identity", "compute")}
    assert all(heads.values())
    version = run("--config-file", conf, "manage", "db", "version").stdout
    for service, head in heads.items():
        assert f"{service}: at revision {head}" in synced.stdout
        assert f"{service}: {head} (latest {head}) up to date" in version
    unknown = run("--config-file", conf, "manage", "db", "sync", "--service", "nova")
    assert unknown.returncode == 2 and "unknown service(s) nova" in unknown.stderr


def test_manage_metadefs_load_is_idempotent(tmp_path):
    conf = write_conf(tmp_path, f"[database]\nconnection = sqlite:///{tmp_path}/s.sqlite\n")
    assert run("--config-file", conf, "manage", "db", "sync").returncode == 0
    first = run("--config-file", conf, "manage", "metadefs", "load")
    assert first.returncode == 0 and "OS::Compute::ImageScheduling" in first.stdout
    again = run("--config-file", conf, "manage", "metadefs", "load")
    assert again.returncode == 0 and "already there" in again.stdout


def test_unreachable_database_is_reported_without_a_traceback(tmp_path):
    conf = write_conf(tmp_path, "[database]\nconnection = postgresql+psycopg://nobody@127.0.0.1:1/x\n")
    result = run("--config-file", conf, "manage", "db", "sync")
    assert result.returncode == 1
    assert "database unavailable" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [("config", "sample"), ("policy", "sample")])
def test_a_reader_that_goes_away_stops_the_output_quietly(command):
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before a line is written (`| head` once it has enough)
    try:
        process = subprocess.Popen(stratus_command(*command), stdout=writer, stderr=subprocess.PIPE,
                                   env=env_with(distribution.FIXTURES))
    finally:
        os.close(writer)
    stderr = process.stderr.read().decode()
    assert process.wait(60) == 141 and "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


@pytest.mark.parametrize(("section", "option", "value", "namespace"), [
    ("compute", "hypervisor", "kvmm", "stratus.hypervisor"),
    ("scheduler", "enabled_filters", "RamFilter,RamFiltr", "stratus.scheduler.filters"),
    ("scheduler", "weighers", "RAMWeighr", "stratus.scheduler.weighers"),
])
def test_a_wrong_driver_name_is_one_clear_line_everywhere(tmp_path, section, option, value, namespace):
    conf = write_conf(tmp_path, f"[{section}]\n{option} = {value}\n")
    for command in (("config", "check"), ("drivers", "--check"),
                    ("up", "--port", "0", "--data-dir", str(tmp_path / "data"))):
        result = run("--config-file", conf, *command, timeout=120)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert f"[{section}] {option}" in result.stderr and f"no {namespace!r} driver named" in result.stderr
        assert "installed:" in result.stderr and "Traceback" not in result.stdout + result.stderr
        assert "is up" not in result.stdout  # no banner for a cloud that is not up


def test_config_check_warns_of_unknown_options_and_missing_python_drivers(tmp_path):
    conf = write_conf(tmp_path, "[compute]\nhypervisr = fake\n[local]\ndatadir = /x\ndatadri = /y\n")
    result = run("--config-file", conf, "config", "check")
    assert result.returncode == 0, result.stderr
    assert "section [compute] of" in result.stderr and "'hypervisr'" in result.stderr
    assert "'datadri'" in result.stderr and "'datadir'" not in result.stderr  # a store's own options are known
    missing = write_conf(tmp_path, "[database]\nconnection = postgresql+psycopg2://u@127.0.0.1/x\n"
                                   "[messaging]\ntransport_url = redis://127.0.0.1\n")
    result = run("--config-file", missing, "config", "check")
    assert result.returncode == 2
    assert "No module named 'psycopg2'" in result.stderr and "'redis' of its transport" in result.stderr


def test_drivers_check_sets_up_each_enabled_volume_backend(site, tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    conf = write_conf(tmp_path, f"[volume]\nenabled_backends = fast,spare,gone\n[fast]\ndatadir = {tmp_path}/fast\n"
                                f"[spare]\nvolume_driver = memory\n[gone]\ndatadir = {blocked}/sub\n")
    result = run("--config-file", conf, "drivers", "--check", env=site)
    assert result.returncode == 1
    assert "ok    [fast] volume_driver = file (stratus.volume; supported; " in result.stdout
    assert "ok    [spare] volume_driver = memory (stratus.volume; supported; " in result.stdout
    assert "FAIL  [gone] volume_driver = file: " in result.stdout and "Traceback" not in result.stdout
    assert (tmp_path / "fast").is_dir()


def test_config_check_knows_each_volume_backends_options(tmp_path):
    conf = write_conf(tmp_path, "[volume]\nenabled_backends = fast\n[fast]\ndatadri = /srv\n"
                                "max_over_subscription_ratio = 2\n[slow]\ndatadir = /srv\n")
    result = run("--config-file", conf, "config", "check")
    assert "section [fast] of" in result.stderr and "no option 'datadri'" in result.stderr
    assert "max_over_subscription_ratio" not in result.stderr
    assert "section [slow]" in result.stderr
    bad = write_conf(tmp_path, "[volume]\nenabled_backends = fast\n[fast]\nvolume_driver = lvmm\n")
    result = run("--config-file", bad, "config", "check")
    assert result.returncode == 2 and "[fast] volume_driver" in result.stderr and "lvmm" in result.stderr
