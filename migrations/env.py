"""Alembic environment: migrates the database named by the portal's configuration.

The URL is taken from `config.attributes["database_url"]` (set by `flask db ...`), else from
DATABASE_URL via portal.config. SQLite uses batch mode so ALTERs work there too. The mocks'
tables have their own chain (migrations_mocks/): autogenerate here ignores them.
"""

from logging.config import fileConfig

from alembic import context

from portal.config import load_config
from portal.db import Base, make_engine
from portal.mock_models import load_models
from portal.mocks_db import VERSION_TABLE
import portal.models  # noqa: F401  (imports every model so the metadata is complete)

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

url = config.attributes.get("database_url") or load_config()["DATABASE_URL"]
MOCK_TABLES = {VERSION_TABLE, *load_models().tables}


def include_name(name, type_, _parent_names) -> bool:
    """Autogenerate compares the production tables only (not the mocks' chain)."""
    return not (type_ == "table" and name in MOCK_TABLES)


def run_migrations_offline() -> None:
    context.configure(
        url=url,
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        include_name=include_name,
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
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
