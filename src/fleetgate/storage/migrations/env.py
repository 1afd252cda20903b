"""Alembic environment: always run on a connection fleetgate hands over (see storage/db.py)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from fleetgate.storage.search import is_search_object
from fleetgate.storage.tables import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("fleetgate migrations run through `fleetgate serve` or Database.migrate()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    # The search index lives outside the ORM metadata (see storage/search.py).
    include_name=lambda name, type_, parent: not is_search_object(name),
)
with context.begin_transaction():
    context.run_migrations()
