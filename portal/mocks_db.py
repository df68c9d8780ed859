"""The mocks' own tables, outside the production schema.

The mock card service (portal/mock_jpki) and the mock payment service (portal/mock_pay) keep state
a real provider would keep on its side. Their models derive from `MockBase`, whose metadata is not
`portal.db.Base.metadata`, and their tables are created by their own Alembic migrations
(migrations_mocks/, version table ``alembic_version_mocks``), which `flask db upgrade` runs only
where a mock with tables is enabled (docs/decisions/0039-mocks-outside-the-production-schema.md).
A production database therefore holds no mock table and its ``alembic_version`` knows nothing of
them. Both bases share the engine, the session, the naming convention and the UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from portal.config import PROJECT_ROOT
from portal.db import NAMING_CONVENTION, UTCDateTime

MIGRATIONS_PATH = PROJECT_ROOT / "migrations_mocks"
VERSION_TABLE = "alembic_version_mocks"
# The settings of the mocks that keep tables (the mock resident records keep none of their own).
SETTINGS_WITH_TABLES = ("MOCK_JPKI_ENABLED", "MOCK_PAY_ENABLED")


class MockBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime}


def mock_tables_wanted(config: Mapping) -> bool:
    """Whether this configuration runs a mock that keeps tables (so needs its migrations)."""
    return any(config.get(name) for name in SETTINGS_WITH_TABLES)
