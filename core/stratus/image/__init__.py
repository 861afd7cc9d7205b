"""Image service (Glance v2 compatible)."""
