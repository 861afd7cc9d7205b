"""Swift-compatible object storage as a Stratus image store."""
