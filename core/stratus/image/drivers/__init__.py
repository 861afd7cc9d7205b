"""Image stores shipped in the core (entry points in stratus.image_store)."""
