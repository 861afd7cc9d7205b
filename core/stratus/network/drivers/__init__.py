"""Network plugins shipped with the core (``logical``)."""
