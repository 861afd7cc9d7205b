"""Reference object backends."""
