"""The mocks' tables leave the production schema: the mock card service's (0003) and the mock
payment service's (0013) tables are dropped here and live in their own chain, migrations_mocks/,
run only where a mock is enabled (docs/decisions/0039-mocks-outside-the-production-schema.md).

Their rows are demo state (virtual cards' PIN counters, tokens, mock payments): a development
database loses them once, and `flask db upgrade` creates the tables again, empty, in the mocks'
chain. Downgrading runs 0003's and 0013's own DDL again, so the older revisions find exactly what
they created.

Revision ID: 0019
Revises: 0018
"""

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

MOCK_PAY_INDEXES = {
    "mock_pay_refunds": ["ix_mock_pay_refunds_payment_id"],
    "mock_pay_events": [
        "ix_mock_pay_events_status_next_attempt_at",
        "ix_mock_pay_events_payment_id",
    ],
    "mock_pay_payments": ["ix_mock_pay_payments_status_expires_at"],
}
MOCK_JPKI_TABLES = [
    "mock_jpki_tokens",
    "mock_jpki_sign_transactions",
    "mock_jpki_codes",
    "mock_jpki_cards",
]


def _revision(filename: str) -> ModuleType:
    """An earlier revision of this directory, to run its upgrade() again."""
    path = Path(__file__).with_name(filename)
    spec = importlib.util.spec_from_file_location(f"_portal_revision_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    for table, indexes in MOCK_PAY_INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for index in indexes:
                batch_op.drop_index(index)
        op.drop_table(table)
    for table in MOCK_JPKI_TABLES:
        op.drop_table(table)


def downgrade() -> None:
    _revision("0003_mock_card_service.py").upgrade()
    _revision("0013_mock_pay.py").upgrade()
