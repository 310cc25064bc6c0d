"""Storage: SQLAlchemy Core tables, queries, and Alembic migrations.

``Store`` is the one object the server and local clients hold; it owns the engine.
"""

from .database import Store as Store
from .database import open_store as open_store

__all__ = ["Store", "open_store"]
