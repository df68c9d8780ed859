"""The record-read log: one row per read of a resident record, whatever the answer.

It says who read (``reader``: "submission:ABC123", "staff:42"), whose record (``person_id``),
which record ("household", "tax_status:2025") and why (``purpose``), so the city can show a
resident every look at their data (情報提供等記録 in spirit). It holds ids only, never the data
read: the log must not become a second copy of the records.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base

READER_MAX = 64
PERSON_ID_MAX = 64
RECORD_MAX = 32
PURPOSE_MAX = 200


class RecordRead(Base):
    __tablename__ = "record_reads"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    reader: Mapped[str] = mapped_column(String(READER_MAX))
    # Indexed: the question asked of this table is "who read this person's records?".
    person_id: Mapped[str] = mapped_column(String(PERSON_ID_MAX), index=True)
    record: Mapped[str] = mapped_column(String(RECORD_MAX))
    purpose: Mapped[str] = mapped_column(String(PURPOSE_MAX))
