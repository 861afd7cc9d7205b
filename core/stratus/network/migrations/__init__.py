"""Alembic history of the networking service's tables."""
