"""Alembic environment: runs on the connection :meth:`Store.migrate` hands over."""

from alembic import context

from flask_modular_login.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through flask_modular_login.store.Store.migrate()")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
