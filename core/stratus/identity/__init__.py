"""Identity service (Keystone v3 compatible)."""
