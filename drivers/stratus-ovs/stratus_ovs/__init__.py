"""Open vSwitch network plugin for Stratus (entry point ``ovs`` in ``stratus.network``)."""
