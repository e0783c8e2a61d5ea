"""Alembic environment: run with a connection handed in by engine.store.db.upgrade, or a URL."""
from alembic import context
from sqlalchemy import create_engine

from engine.store.model import Base

config = context.config


def run(connection):
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    with create_engine(config.get_main_option("sqlalchemy.url")).connect() as connection:
        run(connection)
