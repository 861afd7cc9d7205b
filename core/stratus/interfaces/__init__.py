"""Driver interfaces: abstract classes, value objects and capability flags, one module per slot.

These modules import only the standard library, :mod:`stratus.exceptions` and each other,
and do no I/O, so a driver package depends on them and on nothing else of the core.
"""
