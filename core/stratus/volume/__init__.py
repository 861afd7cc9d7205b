"""Block storage service (Cinder v3 compatible)."""
