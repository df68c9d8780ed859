"""Views of the JSON API: the procedure list (with search), one procedure, the OpenAPI document.

Bodies are validated through `portal.api.schemas` before they are served. Errors under /api/v1
are JSON `{"error": {"code", "message"}}`: raised in a view, the blueprint's handlers answer; an
unknown path or a wrong method never reaches the blueprint, so a hook answers those before Flask
raises the routing error (which the HTML error pages of `portal.web` would otherwise render).

`portal.web` marks every response `Cache-Control: no-store`; the API leaves that as it is.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from flask import Response, current_app, request
from pydantic import BaseModel
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from portal.api import bp
from portal.api.schemas import Error, ProcedureDetail, ProcedureList, ProcedureSummary
from portal.api.schemas import openapi_document as build_openapi_document
from portal.catalog.schema import CatalogData, Procedure
from portal.catalog.search import search
from portal.urls import public_url_for

log = logging.getLogger(__name__)

ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "リクエストを処理できませんでした"),
    404: ("not_found", "URLが見つかりません"),
    405: ("method_not_allowed", "この操作はできません（このAPIは読み取り専用です）"),
    429: (
        "too_many_requests",
        "操作が続けて行われました。しばらく待ってから、もう一度お試しください",
    ),
    500: ("internal_error", "システムで問題が発生しました。時間をおいてもう一度お試しください"),
}
PROCEDURE_NOT_FOUND = "手続が見つかりません"


def _catalog() -> CatalogData:
    return current_app.extensions["catalog"]


def _json(body: BaseModel | dict[str, Any], status: int = 200, headers=None) -> Response:
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return current_app.response_class(
        json.dumps(data, ensure_ascii=False) + "\n",
        status=status,
        headers=headers,
        mimetype="application/json",
    )


def _error(status: int, code: str | None = None, message: str | None = None, headers=None):
    default_code, default_message = ERRORS.get(status, ERRORS[500 if status >= 500 else 400])
    body = Error.model_validate(
        {"error": {"code": code or default_code, "message": message or default_message}}
    )
    return _json(body, status, headers)


# --- errors --------------------------------------------------------------------------------------


def _is_api_path(path: str) -> bool:
    return path == bp.url_prefix or path.startswith(f"{bp.url_prefix}/")


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    code = ERRORS[status][0] if status in ERRORS else _slug(error.name)
    # Keep headers such as Allow (405) and Retry-After (429); the body is ours.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return _error(status, code, headers=headers)


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    if current_app.config.get("PROPAGATE_EXCEPTIONS"):
        raise error  # as portal.web: let it propagate when the app is configured so
    # The exception type only: a message may carry personal data.
    log.error("unhandled %s on %s %s", type(error).__name__, request.method, request.endpoint)
    return _error(500)


@bp.before_app_request
def _routing_errors_as_json() -> Response | None:
    """An unknown path or a wrong method under /api/v1 gets a JSON error, not the HTML page."""
    error = request.routing_exception
    if isinstance(error, NotFound | MethodNotAllowed) and _is_api_path(request.path):
        return _http_error(error)
    return None


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "error"


# --- bodies --------------------------------------------------------------------------------------


def _summary_data(procedure: Procedure) -> dict[str, Any]:
    catalog = _catalog()
    labels = {event.id: event.label for event in catalog.life_events}
    department = catalog.department(procedure.department)
    return {
        "id": procedure.id,
        "national_procedure_id": procedure.national_procedure_id,
        "title": procedure.title,
        "kana": procedure.kana,
        "summary": procedure.summary,
        "life_events": [{"id": i, "label": labels[i]} for i in procedure.life_events],
        "department": {"id": department.id, "name": department.name},
        "channel": procedure.channel,
        "identity_level": procedure.identity_level,
        "estimated_minutes": procedure.estimated_minutes,
        "fee": {"description": procedure.fee.description} if procedure.fee else None,
        "url": public_url_for("submissions.start", procedure_id=procedure.id),
        "api_url": public_url_for("api.procedure", procedure_id=procedure.id),
    }


def _detail(procedure: Procedure) -> ProcedureDetail:
    # Field by field, on purpose: example answers and rule text (`when`, `fee.rule`) stay internal.
    steps = [
        {
            "id": step.id,
            "title": step.title,
            "description": step.description,
            "fields": [
                {
                    "name": field.name,
                    "type": field.type,
                    "label": field.label,
                    "hint": field.hint,
                    "required": field.required,
                    "options": [{"value": o.value, "label": o.label} for o in field.options],
                    "min": field.min,
                    "max": field.max,
                    "max_length": field.max_length,
                    "suffix": field.suffix,
                    "conditional": field.when is not None,
                }
                for field in step.fields
            ],
        }
        for step in procedure.steps
    ]
    return ProcedureDetail.model_validate(
        {
            **_summary_data(procedure),
            "purpose_of_use": procedure.purpose_of_use,
            "legal_basis": procedure.legal_basis,
            "what_you_need": list(procedure.what_you_need),
            "processing_time": procedure.processing_time,
            "next_steps": procedure.next_steps,
            "attachments": [{"id": a.id, "label": a.label} for a in procedure.attachments],
            "deadline": (
                {"description": procedure.deadline.description} if procedure.deadline else None
            ),
            "retention": {"years": procedure.retention.years, "basis": procedure.retention.basis},
            "steps": steps,
        }
    )


# --- routes --------------------------------------------------------------------------------------


@bp.get("/procedures")
def procedures() -> Response:
    q = request.args.get("q", "")
    life_event = request.args.get("life_event") or None
    found = [
        ProcedureSummary.model_validate(_summary_data(procedure))
        for procedure in search(_catalog(), q, life_event)
    ]
    return _json(ProcedureList(procedures=found))


@bp.get("/procedures/<procedure_id>")
def procedure(procedure_id: str) -> Response:
    found = _catalog().procedure(procedure_id)
    if found is None:
        return _error(404, "not_found", PROCEDURE_NOT_FOUND)
    return _json(_detail(found))


@bp.get("/openapi.json")
def openapi_document() -> Response:
    return _json(build_openapi_document())
