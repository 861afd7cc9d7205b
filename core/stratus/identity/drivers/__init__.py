"""Auth backends shipped in the core (entry points in stratus.auth)."""
