"""Alembic migrations of the plugwatch database (run by plugwatch.store.open_store)."""
