"""The audit trail: an append-only, hash-chained log of every look at or change to a resident's
data, every export, every reveal of a masked field (with the reason typed) and every staff
sign-in event; who, when, what (ids only), why. `record` appends, `verify` checks the chain
(`flask audit verify`), `views_of` tells a resident which departments looked at an application.
See docs/decisions/0022-audit-log.md.
"""

from portal.audit.models import AuditEntry, AuditHead
from portal.audit.service import (
    ACCESS_ACTIONS,
    ACTIONS,
    GENESIS_HASH,
    Verification,
    entry_hash,
    record,
    verify,
    views_of,
)

__all__ = [
    "ACCESS_ACTIONS",
    "ACTIONS",
    "GENESIS_HASH",
    "AuditEntry",
    "AuditHead",
    "Verification",
    "entry_hash",
    "record",
    "verify",
    "views_of",
]
