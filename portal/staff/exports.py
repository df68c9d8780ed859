"""Exports of a procedure's applications for one period: a CSV for staff (portal.staff.export_views)
and JSON items for the city's core systems (portal.staff.api). No request in here.

Both list the submitted applications of one procedure whose submission time falls in the period
(dates in Japan, both days included), oldest first, and leave out applications already purged at
the end of their retention period (nothing is left of their answers). Answers are shown as the
staff case view shows them; a My Number is always masked (●●●● ●●●● 1234): revealing one stays
a deliberate act with a reason, on the case page.

CSV cells are neutralised against formula injection: a cell that begins with =, +, -, @, a tab or
a carriage return gets a leading single quote, so a spreadsheet shows it as text instead of
evaluating it (an answer such as `=HYPERLINK(...)` would otherwise run on a clerk's PC).
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from portal import clock, japanese
from portal.catalog.schema import Field, Procedure
from portal.submissions.models import Submission
from portal.submissions.service import procedure_of, workflow_of
from portal.uploads.models import Upload

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_CSV_ROWS = 20_000
PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
FIXED_COLUMNS = ["受付番号", "申請日時", "状態", "手数料", "支払い"]
PAYMENT_LABELS = {
    "none": "",
    "unpaid": "未払い",
    "after_review": "事後決済（未払い）",
    "paid": "支払い済み",
    "refunded": "返金済み",
}


class BadCursor(ValueError):
    """The `after` cursor of the JSON API is not one it handed out."""


@dataclass(frozen=True)
class Period:
    """From `first` to `last` (dates in Japan), both included."""

    first: dt.date
    last: dt.date

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(), clock.TOKYO).astimezone(dt.UTC)

    @property
    def end(self) -> dt.datetime:  # exclusive: the start of the day after `last`
        after = self.last + dt.timedelta(days=1)
        return dt.datetime.combine(after, dt.time(), clock.TOKYO).astimezone(dt.UTC)

    def describe(self) -> str:
        return f"{self.first.isoformat()}〜{self.last.isoformat()}"


def parse_period(first: str | None, last: str | None) -> tuple[Period | None, dict[str, str]]:
    """The period from two dates as people type them (2026-04-01, 令和8年4月1日, full-width
    digits: `japanese.parse_date`), or what is wrong by name: {"from" | "to": "format"}, or
    {"to": "order"} when the last day comes before the first."""
    problems: dict[str, str] = {}
    dates: dict[str, dt.date] = {}
    for name, text in (("from", first), ("to", last)):
        try:
            dates[name] = japanese.parse_date(text or "")
        except japanese.InputError:
            problems[name] = "format"
    if not problems and dates["from"] > dates["to"]:
        problems["to"] = "order"
    if problems:
        return None, problems
    return Period(dates["from"], dates["to"]), {}


def procedures_of(catalog, departments: set[str]) -> list[Procedure]:
    """The catalog's procedures handled by these departments, in catalog order."""
    return [p for p in catalog.procedures if p.department in departments]


def _query(procedure_id: str, period: Period) -> Select:
    return select(Submission).where(
        Submission.procedure_id == procedure_id,
        Submission.submitted_at.is_not(None),
        Submission.purged_at.is_(None),
        Submission.submitted_at >= period.start,
        Submission.submitted_at < period.end,
    )


def count(session: Session, procedure_id: str, period: Period) -> int:
    subquery = _query(procedure_id, period).with_only_columns(Submission.id).subquery()
    return session.scalar(select(func.count()).select_from(subquery)) or 0


def submissions(session: Session, procedure_id: str, period: Period) -> list[Submission]:
    """Every exported application of the period, oldest first."""
    return list(
        session.scalars(
            _query(procedure_id, period).order_by(Submission.submitted_at, Submission.id)
        )
    )


def page(
    session: Session, procedure_id: str, period: Period, after: str | None, size: int
) -> tuple[list[Submission], str | None]:
    """One page of the JSON export (keyset pagination on submission time and id) and the cursor
    of the next page (None on the last)."""
    query = _query(procedure_id, period)
    if after:
        at, row_id = decode_cursor(after)
        query = query.where(
            or_(
                Submission.submitted_at > at,
                and_(Submission.submitted_at == at, Submission.id > row_id),
            )
        )
    rows = list(
        session.scalars(query.order_by(Submission.submitted_at, Submission.id).limit(size + 1))
    )
    more = len(rows) > size
    rows = rows[:size]
    return rows, encode_cursor(rows[-1]) if more else None


def encode_cursor(submission: Submission) -> str:
    data = json.dumps([submission.submitted_at.astimezone(dt.UTC).isoformat(), submission.id])
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at_text, row_id = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        at = dt.datetime.fromisoformat(at_text)
        if at.tzinfo is None or not isinstance(row_id, int) or isinstance(row_id, bool):
            raise BadCursor(cursor)
    except (ValueError, TypeError, UnicodeError, binascii.Error) as error:
        raise BadCursor(cursor) from error
    return at, row_id


# --- values ----------------------------------------------------------------------------------


class _DisplayContext:
    """What the field types ask of the engine to show a stored answer: the names of the
    application's files (fetched for every row at once) and decrypting a My Number (which
    `display` masks). Nothing is read from a form or stored."""

    def __init__(self, key: bytes, files: dict[str, str], answers: dict[str, Any]) -> None:
        self._key = key
        self._files = files
        self.previous = answers
        self.form: dict = {}
        self.files: dict = {}

    def upload_info(self, token: str) -> dict | None:
        name = self._files.get(token)
        return {"token": token, "filename": name} if name is not None else None

    def store_upload(self, field, storage):  # pragma: no cover - never called when showing
        raise RuntimeError("an export stores nothing")

    def encrypt(self, plaintext: str) -> str:  # pragma: no cover - never called when showing
        raise RuntimeError("an export stores nothing")

    def decrypt(self, token: str) -> str:
        return japanese.decrypt_sensitive(token, self._key)


class _Procedures:
    """Each application's procedure as it was when it started (its snapshot), parsed once per
    distinct snapshot."""

    def __init__(self) -> None:
        self._parsed: dict[str, Procedure] = {}

    def of(self, submission: Submission) -> Procedure:
        data = submission.snapshot["procedure"]
        key = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
        if key not in self._parsed:
            self._parsed[key] = procedure_of(submission)
        return self._parsed[key]


def _file_names(session: Session, rows: Sequence[Submission]) -> dict[int, dict[str, str]]:
    names: dict[int, dict[str, str]] = {}
    ids = [s.id for s in rows]
    for start in range(0, len(ids), 500):
        for submission_id, token, filename in session.execute(
            select(Upload.submission_id, Upload.token, Upload.filename).where(
                Upload.submission_id.in_(ids[start : start + 500])
            )
        ):
            names.setdefault(submission_id, {})[token] = filename
    return names


def columns(procedure: Procedure, rows: Iterable[Submission], snapshots: _Procedures) -> list:
    """The answer columns: the catalog's fields of the procedure, then any field only older
    versions of it had (an application keeps the procedure it started with)."""
    fields = list(procedure.fields())
    names = {f.name for f in fields}
    for submission in rows:
        for f in snapshots.of(submission).fields():
            if f.name not in names:
                names.add(f.name)
                fields.append(f)
    return fields


def status_label(submission: Submission) -> str:
    state = workflow_of(submission).states.get(submission.status)
    return state.label if state else submission.status


def local_time(value: dt.datetime) -> str:
    return clock.to_local(value).strftime("%Y/%m/%d %H:%M")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would read as a formula (or a DDE command) becomes text."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_bytes(
    session: Session, procedure: Procedure, rows: Sequence[Submission], key: bytes
) -> bytes:
    """The CSV (UTF-8 with a BOM, for Excel; CRLF line ends): the fixed columns, then one column
    per field by label with the answer as staff see it."""
    snapshots = _Procedures()
    fields = columns(procedure, rows, snapshots)
    files = _file_names(session, rows)
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([neutralise(label) for label in FIXED_COLUMNS + [f.label for f in fields]])
    for submission in rows:
        own = {f.name: f for f in snapshots.of(submission).fields()}
        ctx = _DisplayContext(key, files.get(submission.id, {}), submission.answers)
        cells = [
            submission.reference or "",
            local_time(submission.submitted_at),
            status_label(submission),
            str(submission.fee_amount) if submission.fee_amount is not None else "",
            PAYMENT_LABELS.get(submission.payment_status, submission.payment_status),
        ]
        for column in fields:
            field = own.get(column.name)
            value = submission.answers.get(column.name)
            shown = (
                field.field_type.display(field, value, ctx)
                if field is not None and value is not None
                else ""
            )
            cells.append(shown)
        writer.writerow([neutralise(cell) for cell in cells])
    return (BOM + out.getvalue()).encode("utf-8")


def _masked(fields: Iterable[Field], answers: dict[str, Any], key: bytes) -> dict[str, Any]:
    """The stored answers with every My Number masked, in groups too."""
    by_name = {f.name: f for f in fields}
    masked: dict[str, Any] = {}
    for name, value in answers.items():
        field = by_name.get(name)
        if field is not None and field.type == "mynumber" and value:
            value = japanese.mask_my_number(japanese.decrypt_sensitive(value, key))
        elif field is not None and field.type == "group" and isinstance(value, list):
            value = [
                _masked(field.fields, item, key) if isinstance(item, dict) else item
                for item in value
            ]
        masked[name] = value
    return masked


def json_item(submission: Submission, key: bytes, snapshots: _Procedures | None = None) -> dict:
    procedure = (snapshots or _Procedures()).of(submission)
    return {
        "reference": submission.reference,
        "submitted_at": clock.to_local(submission.submitted_at).isoformat(),
        "status": submission.status,
        "status_label": status_label(submission),
        "payment_status": submission.payment_status,
        "fee": submission.fee_amount,
        "answers": _masked(procedure.fields(), submission.answers, key),
    }


def json_items(rows: Sequence[Submission], key: bytes) -> list[dict]:
    snapshots = _Procedures()
    return [json_item(s, key, snapshots) for s in rows]
