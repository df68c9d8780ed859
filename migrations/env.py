"""Alembic environment: migrates the database named by the portal's configuration.

The URL is taken from `config.attributes["database_url"]` (set by `flask db ...`), else from
DATABASE_URL via portal.config. SQLite uses batch mode so ALTERs work there too.
"""

from logging.config import fileConfig

from alembic import context

from portal.config import load_config
from portal.db import Base, make_engine
import portal.models  # noqa: F401  (imports every model so the metadata is complete)

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

url = config.attributes.get("database_url") or load_config()["DATABASE_URL"]


def run_migrations_offline() -> None:
    context.configure(
        url=url,
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=url.startswith("sqlite"),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
