"""The names the compute service's processes register under in the service registry.

Nova's names, since ``os-services`` shows them and clients and tools filter on them
(``openstack compute service list --service nova-compute``).
"""

COMPUTE = "nova-compute"
CONDUCTOR = "nova-conductor"
SCHEDULER = "nova-scheduler"
