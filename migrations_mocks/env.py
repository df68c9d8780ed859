"""Alembic environment of the mocks' tables (portal.mocks_db): the mock card service and the mock
payment service. Their own chain and version table (``alembic_version_mocks``), run by
`flask db upgrade` only where such a mock is enabled; production tables are never touched here.

The URL is taken from `config.attributes["database_url"]` (set by portal.migrate), else from
DATABASE_URL via portal.config. SQLite uses batch mode so ALTERs work there too.
"""

from logging.config import fileConfig

from alembic import context

from portal.config import load_config
from portal.db import make_engine
from portal.mock_models import load_models
from portal.mocks_db import VERSION_TABLE

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

url = config.attributes.get("database_url") or load_config()["DATABASE_URL"]
target_metadata = load_models()


def include_name(name, type_, _parent_names) -> bool:
    """Autogenerate compares the mocks' tables only (the rest is the production chain's)."""
    return type_ != "table" or name in target_metadata.tables


def run_migrations_offline() -> None:
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        version_table=VERSION_TABLE,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=url.startswith("sqlite"),
            compare_type=True,
            version_table=VERSION_TABLE,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
