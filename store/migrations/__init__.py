"""Alembic migrations of the Kulak store."""
