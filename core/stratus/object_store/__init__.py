"""Object storage service (Swift v1 compatible)."""
