"""Every model of the mock services, imported so that their tables are in `MockBase.metadata`
(the mocks' Alembic chain and the tests); the mocks' counterpart of portal/models.py. The
production schema (portal/models.py) never imports this."""

from __future__ import annotations

from sqlalchemy import MetaData

import portal.mock_jpki.models  # noqa: F401
import portal.mock_pay.models  # noqa: F401
from portal.mocks_db import MockBase


def load_models() -> MetaData:
    """The metadata of every mock table."""
    return MockBase.metadata
