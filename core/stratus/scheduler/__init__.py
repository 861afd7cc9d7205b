"""The scheduler: standard filters and weighers (entry points) and host selection."""
