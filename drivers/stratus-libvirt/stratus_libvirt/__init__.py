"""libvirt hypervisor drivers for Stratus (``kvm``, ``qemu``, ``xen``)."""
