"""Alembic environment shared by every package that keeps tables in the bot's database.

The app passes its own open connection in `config.attributes["connection"]`
(`knowledge_base.db.migrate`); the CLI passes a URL with `-x url=...` or `sqlalchemy.url`.
"""

from __future__ import annotations

import importlib
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, MetaData

from knowledge_base.db import MIGRATION_LOCK_KEY, create_engine_for, lock_writes, write_engine

# Every declarative Base with tables in the bot's database, as "module:attribute"; add yours,
# or `alembic revision --autogenerate` proposes to drop your tables.
MODEL_BASES = (
    "knowledge_base.tables:Base",
    "bot.tables:BotBase",
    "bot.channels.tables:ChannelBase",
)

config = context.config


def target_metadata() -> list[MetaData]:
    """The models, for the CLI's autogenerate and check; the app's upgrade on start
    (`knowledge_base.db.migrate`) never imports them, so it never depends on today's code."""
    if "connection" in config.attributes:
        return []
    bases = (importlib.import_module(module).__dict__[name]
             for module, name in (spec.split(":") for spec in MODEL_BASES))
    return [base.metadata for base in bases]


def database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("no database: pass -x url=<database url>")
    return url


def configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    engine = create_engine_for(database_url())
    try:
        with write_engine(engine).begin() as own_connection:
            lock_writes(own_connection, MIGRATION_LOCK_KEY)
            run_on(own_connection)
    finally:
        engine.dispose()


def run_on(connection: Connection) -> None:
    configure(connection)
    with context.begin_transaction():
        context.run_migrations()


if config.config_file_name is not None and "connection" not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    run_offline()
else:
    run_online()
