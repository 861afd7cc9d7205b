"""The conformance kit's network-plugin suite against the ovs plugin and a real Open vSwitch."""

from __future__ import annotations

from stratus import conformance


def test_the_ovs_plugin_passes_the_network_plugin_suite(switch, tmp_path):
    switch.vsctl("--may-exist", "add-br", "br-int", "--", "set", "Bridge", "br-int", "datapath_type=netdev",
                 "fail_mode=secure")
    config = tmp_path / "stratus.conf"
    config.write_text(switch.config())
    outcome = conformance.run("stratus.network:ovs", str(config))
    # every test of the suite runs, the data-plane one included (plug/unplug on the switch)
    assert outcome.ok and outcome.passed and not outcome.skipped, outcome
    assert switch.vsctl("list-ifaces", "br-int").strip() == "", "unplug left a port behind"
