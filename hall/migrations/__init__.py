"""Alembic migrations, shipped inside the package and run at start-up (see hall/services/migrate.py)."""
