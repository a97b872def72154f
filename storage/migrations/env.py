"""Alembic environment for crm-bot.

The target is `SQLModel.metadata` with every table of `storage.models`. `storage.migrate` passes an open
connection in `config.attributes["connection"]`; the `alembic` command line (with the `alembic.ini` next to
this file) connects to `DATABASE_URL` instead. Batch mode is on, so ALTERs work on SQLite too.
"""

from __future__ import annotations

import os

from alembic import context
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import storage.models  # noqa: F401 - registers the tables
from storage import textindex
from storage.types import UTCDateTime

target_metadata = SQLModel.metadata


def render_item(type_: str, obj: object, autogen_context) -> str | bool:  # noqa: ANN001
    """Render our column types as plain SQLAlchemy types, so revisions import nothing from the app."""
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def compare_type(ctx, inspected_column, metadata_column, inspected_type, metadata_type):  # noqa: ANN001
    """Compare a TypeDecorator by what it stores (UTCDateTime is a DateTime(timezone=True))."""
    if isinstance(metadata_type, UTCDateTime):
        from sqlalchemy import DateTime

        return not isinstance(inspected_type, DateTime)
    return None  # the default comparison


def _configure(connection) -> None:  # noqa: ANN001
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      render_item=render_item, compare_type=compare_type, include_name=textindex.include_name,
                      user_module_prefix=None)


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from storage.db import DEFAULT_URL, make_engine

    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL", DEFAULT_URL)
    engine = make_engine(url)
    with engine.begin() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def run_offline() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL", "sqlite://")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True,
                      render_item=render_item, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
