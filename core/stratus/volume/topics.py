"""RPC topics of the block-storage services, and the names they register under
(Cinder's, since ``os-services`` shows them and tools filter on them)."""

VOLUME_TOPIC = "volume"
SCHEDULER_TOPIC = "volume-scheduler"
VOLUME_BINARY = "cinder-volume"
SCHEDULER_BINARY = "cinder-scheduler"
