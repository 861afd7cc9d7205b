"""The ``ovs`` network plugin: the API side (bindings) and the compute-host side (plugging).

The core notifies this plugin's agents after every committed change (see
:mod:`stratus.network.agents`); ``precommit`` refuses segment types the agents cannot
realise and ``postcommit`` has nothing to do — the agents fetch the change themselves, and a
port turns ``ACTIVE`` only when its host's agent has wired it.
"""

from __future__ import annotations

import shlex
from typing import Any

from stratus.exceptions import Invalid
from stratus.interfaces import network
from stratus.interfaces.network import NetworkCapability, Port, PortBinding, ResourceEvent, ResourceType
from stratus_ovs import ovs
from stratus_ovs.opts import register_opts

TYPES = frozenset({"local", "vxlan"})
VIF_TYPE = "ovs"


def vm_devices(port_id: str) -> tuple[str, str]:
    """(OVS-side name, guest-side name) of the veth pair :meth:`OvsPlugin.plug` makes."""
    return f"qvo{port_id[:11]}", f"tap{port_id[:11]}"


class OvsPlugin(network.NetworkPlugin, network.HostPlugging):
    api_version = (1, 0)
    capabilities = (NetworkCapability.DATA_PLANE | NetworkCapability.DHCP | NetworkCapability.SECURITY_GROUPS
                    | NetworkCapability.ROUTING | NetworkCapability.FLOATING_IPS)

    def __init__(self, conf: Any) -> None:
        register_opts(conf)
        self.conf = conf

    def supported_network_types(self) -> frozenset[str]:
        return TYPES

    def precommit(self, event: ResourceEvent) -> None:
        if event.resource is ResourceType.NETWORK:
            for segment in event.segments:
                if segment.network_type not in TYPES:
                    raise Invalid(f"Network type {segment.network_type} is not supported by the ovs plugin; "
                                  f"supported: {', '.join(sorted(TYPES))}")

    def postcommit(self, event: ResourceEvent) -> None:
        return None

    def bind_port(self, port: Port, host: str) -> PortBinding | None:
        return PortBinding(VIF_TYPE, {"bridge_name": self.conf.ovs.integration_bridge, "port_filter": True,
                                      "ovs_hybrid_plug": False, "datapath_type": self.conf.ovs.datapath_type,
                                      "connectivity": "l2"})

    def create_agent(self, conf: Any) -> network.HostAgent:
        from stratus_ovs.agent import Agent

        return Agent(conf)

    def _host(self) -> ovs.Host:
        return ovs.Host(shlex.split(self.conf.ovs.root_helper))

    def _vswitch(self) -> ovs.Vswitch:
        return ovs.Vswitch(self.conf.ovs.ovsdb_connection, self.conf.ovs.ovs_rundir)

    def plug(self, port: Port, binding: PortBinding, instance_uuid: str) -> str:
        """A veth pair: one end on the integration bridge (marked with the port's id, which is
        how the agent finds it), the other, with the port's MAC, for the guest."""
        outside, inside = vm_devices(port.id)
        try:
            self._host().make_veth(outside, inside, port.mac_address, port.mtu)
            self._vswitch().add_port(str(binding.vif_details.get("bridge_name", self.conf.ovs.integration_bridge)),
                                     outside, {"iface-id": port.id, "attached-mac": port.mac_address,
                                               "vm-uuid": instance_uuid, "iface-status": "active"})
        except Exception:
            self.unplug(port, binding, instance_uuid)
            raise
        return inside

    def unplug(self, port: Port, binding: PortBinding, instance_uuid: str) -> None:
        outside, _ = vm_devices(port.id)
        self._vswitch().del_port(str(binding.vif_details.get("bridge_name", self.conf.ovs.integration_bridge)),
                                 outside)
        self._host().run(["ip", "link", "del", outside], check=False)
