"""The generic suites, one module per interface (collected by the plugin, not imported)."""
