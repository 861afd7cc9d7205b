"""The conformance kit's network-plugin suite against the ovs plugin and a real Open vSwitch."""

from __future__ import annotations

import subprocess
import sys


def test_the_ovs_plugin_passes_the_network_plugin_suite(switch, tmp_path):
    switch.vsctl("--may-exist", "add-br", "br-int", "--", "set", "Bridge", "br-int", "datapath_type=netdev",
                 "fail_mode=secure")
    config = tmp_path / "stratus.conf"
    config.write_text(switch.config())
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "stratus.conformance", "-p", "no:cacheprovider",
                             "--stratus-driver", "stratus.network:ovs", "--stratus-config", str(config), "-q"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=600)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    # every test of the suite runs, the data-plane one included (plug/unplug on the switch)
    assert "passed" in summary and "failed" not in summary and "skipped" not in summary, result.stdout
    assert switch.vsctl("list-ifaces", "br-int").strip() == "", "unplug left a port behind"
