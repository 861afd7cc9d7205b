"""The network-plugin suite (namespace ``stratus.network``).

Checks the contract of :mod:`stratus.interfaces.network` that every plugin shares:
precommit validates without side effects outside the transaction, postcommit is
idempotent, bind_port is deterministic, and a plugin with a data plane plugs and unplugs
idempotently. A data-plane plugin's own tests prove the traffic (namespaces, pings).
"""

from __future__ import annotations

import uuid

import pytest

from stratus.exceptions import Invalid
from stratus.interfaces.network import (
    FixedIP,
    HostPlugging,
    Operation,
    Port,
    PortBinding,
    ResourceEvent,
    ResourceType,
    Segment,
)


def network_event(network_type: str, operation: Operation = Operation.CREATE) -> ResourceEvent:
    network = {"id": str(uuid.uuid4()), "name": "conformance", "project_id": "p", "mtu": 1500,
               "admin_state_up": True, "shared": False}
    segment = Segment(network_type, "physnet1" if network_type in ("flat", "vlan") else None,
                      {"vlan": 100, "vxlan": 1000, "geneve": 1000}.get(network_type))
    return ResourceEvent(ResourceType.NETWORK, operation, network if operation is not Operation.DELETE else None,
                         network if operation is not Operation.CREATE else None, (segment,))


def a_port(driver) -> Port:
    kind = sorted(driver.supported_network_types())[0]
    return Port(id=str(uuid.uuid4()), network_id=str(uuid.uuid4()), project_id="p", mac_address="fa:16:3e:12:34:56",
                fixed_ips=(FixedIP(str(uuid.uuid4()), "10.0.0.5"),), device_id=str(uuid.uuid4()),
                device_owner="compute:nova", host="conformance-host", mtu=1500,
                segments=(network_event(kind).segments[0],))


def test_supported_network_types_are_named(driver):
    types = driver.supported_network_types()
    assert isinstance(types, frozenset) and types and all(isinstance(t, str) and t for t in types)


def test_precommit_accepts_every_supported_type(driver):
    for kind in sorted(driver.supported_network_types()):
        driver.precommit(network_event(kind))


def test_precommit_refuses_an_unsupported_type(driver):
    with pytest.raises(Invalid):
        driver.precommit(network_event("no-such-network-type"))


def test_postcommit_is_idempotent(driver):
    kind = sorted(driver.supported_network_types())[0]
    event = network_event(kind)
    driver.precommit(event)
    driver.postcommit(event)
    driver.postcommit(event)
    deleted = ResourceEvent(ResourceType.NETWORK, Operation.DELETE, None, event.current, event.segments)
    driver.postcommit(deleted)
    driver.postcommit(deleted)


def test_bind_port_is_deterministic(driver):
    port = a_port(driver)
    first, second = driver.bind_port(port, "conformance-host"), driver.bind_port(port, "conformance-host")
    assert first == second
    if first is not None:
        assert isinstance(first, PortBinding) and first.vif_type and first.vif_type not in ("unbound",
                                                                                              "binding_failed")


@pytest.mark.requires_capability("DATA_PLANE")
def test_plug_and_unplug_are_idempotent(driver):
    assert isinstance(driver, HostPlugging)
    port = a_port(driver)
    binding = driver.bind_port(port, "conformance-host")
    assert binding is not None
    instance = str(uuid.uuid4())
    device = driver.plug(port, binding, instance)
    assert device and driver.plug(port, binding, instance) == device
    driver.unplug(port, binding, instance)
    driver.unplug(port, binding, instance)
