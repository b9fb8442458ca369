"""Alembic migrations, shipped inside the package and run at start-up (see hall/services/storage/migrate.py).

``HEAD`` names the newest revision so that an up-to-date database is recognised without importing Alembic
(it costs a fifth of a second at every start); tests/services/storage/test_db.py keeps it equal to Alembic's head.
"""

HEAD = "0019"  # 0007 → 0014 → 0011 → 0012 → 0013 → 0015 → 0010 → 0016 → 0017 → 0018 → 0019
#                (branches chained in merge order)
