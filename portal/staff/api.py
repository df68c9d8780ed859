"""The staff JSON API at /api/staff/v1, for the city's core systems: the applications of one
procedure in a period, page by page (GET .../procedures/<id>/submissions?from=&to=&after=).

Every request carries `Authorization: Bearer <token>` (`flask staff token create`); no token, an
unknown, expired or revoked one, or one of an inactive member is a 401. The token acts as its
member: a procedure of another department is a 404, as on the staff pages. Each page is audited
like a CSV export (who, which procedure and period, how many rows, which token). Pages are keyset
paginated on (submission time, id), so an application submitted while a system pages through is
neither skipped nor repeated. Errors are JSON `{"error": {"code", "message"}}` in Japanese, as
under /api/v1; staff sessions and cookies play no part here.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from portal import audit, clock
from portal.db import db
from portal.staff import exports, tokens
from portal.urls import public_url_for

log = logging.getLogger(__name__)

bp = Blueprint("staff_api", __name__, url_prefix="/api/staff/v1")

ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "リクエストを処理できませんでした"),
    401: (
        "unauthorized",
        "APIトークンがないか、無効です（期限切れ・取消済みを含みます）。"
        "有効なトークンを Authorization: Bearer で指定してください",
    ),
    404: ("not_found", "URLが見つかりません"),
    405: ("method_not_allowed", "この操作はできません（このAPIは読み取り専用です）"),
    500: ("internal_error", "システムで問題が発生しました。時間をおいてもう一度お試しください"),
}
PROCEDURE_NOT_FOUND = "手続が見つかりません"
BAD_PERIOD = (
    "from と to に、期間の最初と最後の日を YYYY-MM-DD の形で指定してください"
    "（例：from=2026-04-01&to=2026-04-30）"
)
BAD_ORDER = "to は、from と同じ日か、それより後の日にしてください"
BAD_LIMIT = f"limit は 1 から {exports.MAX_PAGE_SIZE} までの数で指定してください"
BAD_CURSOR = "after には、前のページの next_cursor の値をそのまま指定してください"
REALM = 'Bearer realm="staff-api"'


def _json(body: dict[str, Any], status: int = 200, headers=None) -> Response:
    return current_app.response_class(
        json.dumps(body, ensure_ascii=False) + "\n",
        status=status,
        headers=headers,
        mimetype="application/json",
    )


def _error(status: int, message: str | None = None, headers=None) -> Response:
    code, default = ERRORS.get(status, ERRORS[500 if status >= 500 else 400])
    return _json({"error": {"code": code, "message": message or default}}, status, headers)


# --- errors and authentication -----------------------------------------------------------------


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return _error(error.code or 500, headers=headers)


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    if current_app.config.get("PROPAGATE_EXCEPTIONS"):
        raise error
    log.error("unhandled %s on %s %s", type(error).__name__, request.method, request.endpoint)
    return _error(500)


@bp.before_app_request
def _routing_errors_as_json() -> Response | None:
    """An unknown path or a wrong method under the prefix gets a JSON error, not the HTML page."""
    error = request.routing_exception
    if isinstance(error, NotFound | MethodNotAllowed) and (
        request.path == bp.url_prefix or request.path.startswith(f"{bp.url_prefix}/")
    ):
        return _http_error(error)
    return None


@bp.before_request
def _authenticate() -> Response | None:
    db.will_write()  # the token's last use and the audit entry
    header = request.headers.get("Authorization")
    token = tokens.authenticate(db.session, header, clock.now())
    if token is None:
        db.session.rollback()
        challenge = REALM + (', error="invalid_token"' if header else "")
        return _error(401, headers={"WWW-Authenticate": challenge})
    g.api_token = token
    return None


# --- routes ------------------------------------------------------------------------------------


@bp.get("/procedures/<procedure_id>/submissions")
def submissions(procedure_id: str) -> Response:
    token = g.api_token
    member = token.member
    procedure = current_app.extensions["catalog"].procedure(procedure_id)
    if procedure is None or procedure.department not in member.departments():
        return _error(404, PROCEDURE_NOT_FOUND)
    period, problems = exports.parse_period(request.args.get("from"), request.args.get("to"))
    if period is None:
        return _error(400, BAD_ORDER if problems == {"to": "order"} else BAD_PERIOD)
    try:
        size = int(request.args.get("limit", exports.PAGE_SIZE))
    except ValueError:
        size = 0
    if not 1 <= size <= exports.MAX_PAGE_SIZE:
        return _error(400, BAD_LIMIT)
    after = request.args.get("after") or None
    try:
        rows, next_cursor = exports.page(db.session, procedure.id, period, after, size)
    except exports.BadCursor:
        return _error(400, BAD_CURSOR)
    items = exports.json_items(rows, current_app.extensions["submission_services"].my_number_key)
    audit.record(
        db.session,
        actor=f"staff:{member.id}",
        action="export",
        target=f"procedure:{procedure.id}",
        department=procedure.department,
        reason=f"API {period.describe()} {len(rows)}件（トークン {token.id}）",
        at=clock.now(),
    )
    db.session.commit()
    next_url = None
    if next_cursor:
        next_url = public_url_for(
            "staff_api.submissions",
            procedure_id=procedure.id,
            **{"from": period.first.isoformat(), "to": period.last.isoformat()},
            limit=size,
            after=next_cursor,
        )
    return _json(
        {
            "procedure": {"id": procedure.id, "title": procedure.title},
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "items": items,
            "next_cursor": next_cursor,
            "next_url": next_url,
        }
    )
