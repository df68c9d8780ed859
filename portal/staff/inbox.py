"""The staff inbox (受付一覧, routes on the staff blueprint): one department's submitted cases at a
time, newest first, filtered by procedure, status, submission dates and 期限超過 (past the
catalog's processing days), with counts per status, keyset pages of 50, and a search by
reference, name or kana.

The filters travel in the query string: ids, dates and a page cursor, never personal data. The
search term (a name, perhaps) is POSTed to /staff/inbox/search and the results are the POST's own
response, so a name never lands in a URL, an access log or the browser history; its pages are
POSTs too, carrying the cursor as a hidden field. A department the member holds no role in is the
staff pages' usual 404.

A page costs two queries: the rows (the ids of the page through the `ix_submissions_inbox`
index on department, submitted_at, id, walked backwards from the cursor, then those rows' columns)
and one grouped count. Names come from each row's answers, titles, status labels and due dates
from the catalog (a case's snapshot only when the catalog no longer knows its status: one more
query for the page): nothing is queried per row.
See docs/decisions/0034-staff-inbox.md.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from flask import abort, current_app, g, render_template, request, url_for
from sqlalchemy import ColumnElement, and_, case, false, func, or_, select, tuple_

from portal import clock, japanese
from portal.catalog.schema import Procedure, State
from portal.db import db
from portal.security import REFERENCE_ALPHABET
from portal.staff import bp
from portal.staff.exports import BadCursor, decode_cursor, encode_cursor
from portal.submissions import service as submissions
from portal.submissions.models import Submission

PAGE_SIZE = 50
SEARCH_MAX_LENGTH = 100
PURGED = "保存期間経過のため削除済み"
FILTERS = ("department", "procedure", "status", "from", "to", "overdue")
DATE_LABELS = {"from": "開始日", "to": "終了日"}
REFERENCE_PREFIXES = ("ISM",)  # applications (bundles and payments have references of their own)


# --- what the member may see -------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The member's departments (catalog order), and for the chosen one its procedures and the
    states its cases can be in (every workflow state but the draft)."""

    departments: list[tuple[str, str]]  # (id, name)
    department: str
    procedures: list[Procedure]
    states: dict[str, State]

    def procedure(self, procedure_id: str) -> Procedure | None:
        return next((p for p in self.procedures if p.id == procedure_id), None)


def scope_of(catalog, member_departments: set[str], department: str) -> Scope:
    """The scope of `department` (the member's first when empty); 404 for any other."""
    departments = [(d.id, d.name) for d in catalog.departments if d.id in member_departments]
    if not department and departments:
        department = departments[0][0]
    if department not in {d for d, _name in departments}:
        abort(404)
    procedures = [p for p in catalog.procedures if p.department == department]
    states: dict[str, State] = {}
    for name in dict.fromkeys(p.workflow for p in procedures):
        workflow = catalog.workflows[name]
        for state_name, state in workflow.states.items():
            if state_name != workflow.initial:
                states.setdefault(state_name, state)
    return Scope(departments, department, procedures, states)


# --- filters -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    procedure: str | None
    status: str | None
    first: dt.date | None  # submitted on or after this day in Japan
    last: dt.date | None  # ... and on or before this one
    overdue: bool


def read_filters(scope: Scope, form: Mapping[str, str]) -> tuple[Filters | None, dict[str, str]]:
    """The filters from the form's raw values, or the Japanese message for each wrong one."""
    errors: dict[str, str] = {}
    procedure = form.get("procedure") or None
    if procedure and scope.procedure(procedure) is None:
        errors["procedure"] = (
            "手続は、一覧から選び直してください（選んだ担当課の手続ではありません）"
        )
    status = form.get("status") or None
    if status and status not in scope.states:
        errors["status"] = "状態は、一覧から選び直してください"
    dates: dict[str, dt.date | None] = {}
    for name, label in DATE_LABELS.items():
        text = (form.get(name) or "").strip()
        dates[name] = None
        if text:
            try:
                dates[name] = japanese.parse_date(text)
            except japanese.InputError as error:
                errors[name] = f"{label}：{error.message}"
    if dates["from"] and dates["to"] and dates["from"] > dates["to"]:
        errors["to"] = "終了日は、開始日と同じ日か、それより後の日にしてください"
    if errors:
        return None, errors
    return Filters(procedure, status, dates["from"], dates["to"], form.get("overdue") == "1"), {}


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), clock.TOKYO).astimezone(dt.UTC)


def open_states(catalog, procedure: Procedure) -> list[str]:
    """The states in which the city is working on a case: not a draft, not decided for good,
    not waiting for the resident. Only these can be overdue."""
    workflow = catalog.workflows[procedure.workflow]
    return [
        name
        for name, state in workflow.states.items()
        if name != workflow.initial and not state.final and not state.resident_turn
    ]


def overdue_clause(catalog, procedures: Iterable[Procedure], now: dt.datetime) -> ColumnElement:
    """SQL for "past its processing days in an open state", one term per (days, states)."""
    groups: dict[tuple[int, tuple[str, ...]], list[str]] = {}
    for p in procedures:
        groups.setdefault((p.processing_days, tuple(open_states(catalog, p))), []).append(p.id)
    terms = [
        and_(
            Submission.procedure_id.in_(ids),
            Submission.status.in_(states),
            Submission.submitted_at < now - dt.timedelta(days=days),
        )
        for (days, states), ids in groups.items()
    ]
    if not terms:
        return false()
    # Redundant, for the database: most cases are closed, and no case younger than the shortest
    # processing time is late; checked first, these two settle most rows (in the counts) and
    # let the list enter the (department, submitted_at, id) index below that time.
    shortest = min(days for days, _states in groups)
    every_open = sorted({state for _days, states in groups for state in states})
    return and_(
        Submission.status.in_(every_open),
        Submission.submitted_at < now - dt.timedelta(days=shortest),
        or_(*terms),
    )


def _where(catalog, scope: Scope, filters: Filters, now: dt.datetime) -> list[ColumnElement]:
    clauses: list[ColumnElement] = [
        Submission.department == scope.department,
        Submission.submitted_at.is_not(None),
    ]
    if filters.procedure:
        clauses.append(Submission.procedure_id == filters.procedure)
    if filters.status:
        clauses.append(Submission.status == filters.status)
    if filters.first:
        clauses.append(Submission.submitted_at >= _day_start(filters.first))
    if filters.last:
        clauses.append(Submission.submitted_at < _day_start(filters.last + dt.timedelta(days=1)))
    if filters.overdue:
        clauses.append(overdue_clause(catalog, _in_scope(scope, filters), now))
    return clauses


def _in_scope(scope: Scope, filters: Filters) -> list[Procedure]:
    return [p for p in scope.procedures if not filters.procedure or p.id == filters.procedure]


# --- search --------------------------------------------------------------------------------------


def reference_of(text: str) -> str | None:
    """The reference staff typed, as stored (ISM-7K3M-Q9TX), whatever its width, case, spaces
    and hyphens; None when it cannot be one."""
    chars = "".join(ch for ch in unicodedata.normalize("NFKC", text).upper() if ch.isalnum())
    prefix = next((p for p in REFERENCE_PREFIXES if chars.startswith(p)), None)
    if prefix is None or len(chars) != len(prefix) + 8:
        return None
    body = chars[len(prefix) :].translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    if not all(ch in REFERENCE_ALPHABET for ch in body):
        return None
    return f"{prefix}-{body[:4]}-{body[4:]}"


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_clause(term: str) -> ColumnElement:
    """The reference exactly, or the term inside the applicant's normalised name and kana
    (`applicant_search`, set at submit: NFKC, no spaces, kana in katakana). A term with Latin
    letters is compared in lower case, so that a name matches however it was typed; kana and
    kanji have no case, and leaving lower() out for them halves the cost of a scan."""
    needle = submissions.normalize_search(term).lower()
    column = Submission.applicant_search
    if needle != needle.upper():
        column = func.lower(column)
    clause = column.like(f"%{_like_escape(needle)}%", escape="\\")
    reference = reference_of(term)
    return or_(Submission.reference == reference, clause) if reference else clause


# --- the queries ---------------------------------------------------------------------------------


def page(
    catalog,
    scope: Scope,
    filters: Filters,
    now: dt.datetime,
    after: tuple[dt.datetime, int] | None = None,
    term: str | None = None,
    size: int = PAGE_SIZE,
) -> tuple[list[Any], str | None]:
    """One page of rows, newest first, and the cursor of the next page (None on the last).
    Keyset: (submitted_at, id) below the cursor, so a case filed meanwhile is neither repeated
    nor skipped, and a deep page costs what the first does."""
    clauses = _where(catalog, scope, filters, now)
    if term:
        clauses.append(search_clause(term))
    if after:
        clauses.append(tuple_(Submission.submitted_at, Submission.id) < tuple_(*after))
    # The page's ids first, then their rows ("deferred join"): with an index that covers the
    # filter columns the search never reads the table but for the 51 rows shown.
    ids = (
        select(Submission.id)
        .where(*clauses)
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())
        .limit(size + 1)
    )
    query = (
        select(
            Submission.id,
            Submission.public_id,
            Submission.reference,
            Submission.procedure_id,
            Submission.status,
            Submission.submitted_at,
            Submission.purged_at,
            Submission.answers,
        )
        .where(Submission.id.in_(ids))
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())
    )
    rows = db.session.execute(query).all()
    more = len(rows) > size
    rows = rows[:size]
    return rows, encode_cursor(rows[-1]) if more else None


def counts(catalog, scope: Scope, filters: Filters, now: dt.datetime) -> dict[str, tuple[int, int]]:
    """status -> (cases, of which overdue), for the department and procedure chosen (the other
    filters do not narrow the counts: they tell how the department's work stands)."""
    clauses = [
        Submission.department == scope.department,
        Submission.submitted_at.is_not(None),
    ]
    if filters.procedure:
        clauses.append(Submission.procedure_id == filters.procedure)
    overdue = overdue_clause(catalog, _in_scope(scope, filters), now)
    query = (
        select(
            Submission.status,
            func.count(),
            func.coalesce(func.sum(case((overdue, 1), else_=0)), 0),
        )
        .where(*clauses)
        .group_by(Submission.status)
    )
    return {status: (n, late) for status, n, late in db.session.execute(query)}


# --- rows as shown -------------------------------------------------------------------------------


def person_fields(procedures: Iterable[Procedure]) -> dict[str, list[str]]:
    """procedure id -> its person fields in form order (the first answered is the applicant,
    as for `applicant_search`)."""
    return {p.id: [f.name for f in p.fields() if f.type == "person"] for p in procedures}


def applicant(answers: dict | None, names: list[str] | None) -> tuple[str, str]:
    """(name, kana) of the first person answered; any answered person when the procedure has
    left the catalog."""
    answers = answers or {}
    values = (
        [answers.get(name) for name in names]
        if names is not None
        else [v for v in answers.values() if isinstance(v, dict) and "kana" in v]
    )
    for value in values:
        if isinstance(value, dict) and value.get("name"):
            return value["name"], value.get("kana", "")
    return "", ""


def _date_text(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _short_date(day: dt.date) -> str:
    """Dates in the table (yyyy/mm/dd, as on the city's forms): short enough for a phone."""
    return f"{day:%Y/%m/%d}"


@dataclass(frozen=True)
class Shown:
    """What a row needs of its procedure and workflow."""

    title: str
    label: str
    open: bool  # the city's turn: may be overdue
    processing_days: int | None


def _what(catalog, rows: list[Any]) -> dict[int, Shown]:
    """Title and status of each row from the catalog. A case keeps the procedure and workflow
    it started with, but reading its snapshot costs a JSON parse of a large document per row
    (about half a millisecond each on PostgreSQL), so the snapshot is read only for the rare row
    whose procedure left the catalog or whose status its workflow no longer has: one query for
    all of them."""
    out: dict[int, Shown] = {}
    missing: dict[int, Any] = {}
    for row in rows:
        procedure = catalog.procedure(row.procedure_id)
        workflow = catalog.workflows.get(procedure.workflow) if procedure else None
        state = workflow.states.get(row.status) if workflow else None
        if state is None:
            missing[row.id] = row
            continue
        out[row.id] = Shown(
            procedure.title,
            state.label,
            not state.final and not state.resident_turn,
            procedure.processing_days,
        )
    if missing:
        query = select(
            Submission.id,
            Submission.snapshot["procedure"]["title"].as_string(),
            Submission.snapshot["workflow"]["states"],
        ).where(Submission.id.in_(missing))
        for row_id, title, states in db.session.execute(query):
            row = missing[row_id]
            state = (states or {}).get(row.status) or {}
            procedure = catalog.procedure(row.procedure_id)
            # Overdue is the catalog's rule (the filter and the counts apply it in SQL): a state
            # the catalog no longer has is never flagged, here either.
            out[row_id] = Shown(
                title or row.procedure_id,
                state.get("label", row.status),
                False,
                procedure.processing_days if procedure else None,
            )
    return out


def shown(catalog, scope: Scope, rows: list[Any], now: dt.datetime) -> list[dict]:
    """The rows as the table shows them: no query per row (names from the answers)."""
    persons = person_fields(scope.procedures)
    what = _what(catalog, rows)
    # url_for once, not 50 times (a tenth of the page's time): public ids are URL-safe tokens.
    case_url = url_for("staff.submission", public_id="-").removesuffix("-")
    out = []
    for row in rows:
        known = what[row.id]
        due = None
        overdue = False
        if known.processing_days is not None:
            due_at = row.submitted_at + dt.timedelta(days=known.processing_days)
            due = _short_date(clock.to_local(due_at).date())
            overdue = known.open and due_at < now
        name, kana = (
            ("", "") if row.purged_at else applicant(row.answers, persons.get(row.procedure_id))
        )
        out.append(
            {
                "url": case_url + quote(row.public_id, safe=""),
                "reference": row.reference,
                "title": known.title,
                "name": name,
                "kana": kana,
                "purged": row.purged_at is not None,
                "status": known.label,
                "submitted_at": row.submitted_at,
                "submitted": f"{clock.to_local(row.submitted_at):%Y/%m/%d %H:%M}",
                "due": due,
                "overdue": overdue,
            }
        )
    return out


# --- the pages -----------------------------------------------------------------------------------


def _catalog():
    return current_app.extensions["catalog"]


def _raw(source: Mapping[str, str], scope: Scope) -> dict[str, str]:
    form = {name: (source.get(name) or "").strip() for name in FILTERS}
    form["department"] = scope.department
    form["overdue"] = "1" if form["overdue"] == "1" else ""
    return form


def describe(scope: Scope, filters: Filters, term: str | None) -> str:
    """The filters in force, in words (above the results)."""
    parts = [dict(scope.departments)[scope.department]]
    procedure = scope.procedure(filters.procedure) if filters.procedure else None
    parts.append(procedure.title if procedure else "すべての手続")
    if filters.status:
        parts.append(f"状態：{scope.states[filters.status].label}")
    if filters.first or filters.last:
        first = _date_text(filters.first) if filters.first else ""
        last = _date_text(filters.last) if filters.last else ""
        parts.append(f"申請日：{first}〜{last}")
    if filters.overdue:
        parts.append("期限超過のみ")
    text = "、".join(parts)
    if term is not None:
        return f"「{term}」を、{text}の中から探した結果です。"
    return f"{text}の申請です。"


def _url(**params: str) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return url_for("staff.inbox") + (f"?{query}" if query else "")


def _count_rows(scope: Scope, found: dict[str, tuple[int, int]], form: dict[str, str]) -> dict:
    """The counts table: every state of the workflow (zero too), links that set the status."""
    keep = {"department": scope.department, "procedure": form["procedure"]}
    names = list(scope.states) + [s for s in found if s not in scope.states]
    rows = [
        {
            "status": name,
            "label": scope.states[name].label if name in scope.states else name,
            "count": found.get(name, (0, 0))[0],
            "overdue": found.get(name, (0, 0))[1],
            # A state only older workflows had cannot be chosen as a filter: counted, unlinked.
            "url": _url(**keep, status=name) if name in scope.states else None,
            "current": form["status"] == name,
        }
        for name in names
    ]
    return {
        "rows": rows,
        "total": sum(n for n, _late in found.values()),
        "overdue": sum(late for _n, late in found.values()),
        "all_url": _url(**keep),
        "overdue_url": _url(**keep, overdue="1"),
    }


def _render(
    scope: Scope,
    form: dict[str, str],
    filters: Filters | None,
    errors: dict[str, str],
    now: dt.datetime,
    *,
    cursor: str = "",
    term: str | None = None,
):
    catalog = _catalog()
    after = None
    if cursor:
        try:
            after = decode_cursor(cursor)
        except BadCursor:
            abort(400)
    # The counts need the department and the procedure only: shown even when a date is wrong.
    count_filters = filters or Filters(
        form["procedure"] if scope.procedure(form["procedure"]) else None, None, None, None, False
    )
    found = counts(catalog, scope, count_filters, now)
    rows = next_cursor = None
    if filters is not None and not errors:
        rows, next_cursor = page(catalog, scope, filters, now, after, term)
    filter_values = {k: v for k, v in form.items() if v}
    count_table = _count_rows(scope, found, form)
    procedure = scope.procedure(form["procedure"])
    count_table["procedure_title"] = procedure.title if procedure else ""
    response = render_template(
        "staff/inbox.html",
        scope=scope,
        department_name=dict(scope.departments)[scope.department],
        form=form,
        errors=errors,
        error_links={name: f"f-{name}" for name in errors},
        counts=count_table,
        procedure_options=[(p.id, p.title) for p in scope.procedures],
        status_options=[(name, state.label) for name, state in scope.states.items()],
        summary=describe(scope, filters, term) if filters else "",
        purged=PURGED,
        rows=None if rows is None else shown(catalog, scope, rows, now),
        searching=term is not None,
        term=term or "",
        filter_values=filter_values,
        cursor=cursor,
        next_cursor=next_cursor or "",
        next_url=_url(**filter_values, cursor=next_cursor) if next_cursor and term is None else "",
        first_url=_url(**filter_values),
        clear_url=_url(department=scope.department),
        page_size=PAGE_SIZE,
        search_max=SEARCH_MAX_LENGTH,
    )
    return response, 400 if errors else 200


@bp.get("/inbox")
def inbox():
    """The department's cases with the filters of the query string."""
    scope = scope_of(_catalog(), g.current_staff.departments(), request.args.get("department", ""))
    form = _raw(request.args, scope)
    filters, errors = read_filters(scope, form)
    return _render(scope, form, filters, errors, clock.now(), cursor=request.args.get("cursor", ""))


@bp.post("/inbox/search")
def inbox_search():
    """Search by reference, name or kana within the filters sent along (hidden fields); the
    results are this response, never a redirect to a URL holding the term."""
    scope = scope_of(_catalog(), g.current_staff.departments(), request.form.get("department", ""))
    form = _raw(request.form, scope)
    filters, errors = read_filters(scope, form)
    term = " ".join(request.form.get("q", "").split())
    if not term:
        errors["q"] = "受付番号、氏名またはフリガナを入力してください"
    elif len(term) > SEARCH_MAX_LENGTH:
        errors["q"] = f"検索する言葉は{SEARCH_MAX_LENGTH}文字以内で入力してください"
    return _render(
        scope, form, filters, errors, clock.now(), cursor=request.form.get("cursor", ""), term=term
    )
