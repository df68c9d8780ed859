"""The API's response models and the OpenAPI document generated from them.

Every response body is built by validating through these models, and the published
`/api/v1/openapi.json` takes its component schemas from the same models, so what is served always
matches what is documented. The models carry only what a resident may see: never the example
answers or the rule text (`when:`, `fee.rule:`), which are internal; a field with a `when:` rule is
shown as `conditional: true`.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydField

OPENAPI_VERSION = "3.1.0"
API_TITLE = "いすみ市 オンライン手続 API (demonstration)"
API_VERSION = "1.0.0"
SCHEMA_REF = "#/components/schemas/{model}"


class ApiModel(BaseModel):
    """Frozen, closed response models: every field is required (null where it may be absent)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class LifeEventRef(ApiModel):
    id: str
    label: str


class DepartmentRef(ApiModel):
    id: str
    name: str


class FeeInfo(ApiModel):
    description: str = PydField(description="How the fee is charged, e.g. 1通300円")


class DeadlineInfo(ApiModel):
    description: str


class AttachmentInfo(ApiModel):
    id: str
    label: str


class RetentionInfo(ApiModel):
    years: int = PydField(ge=1)
    basis: str


class OptionInfo(ApiModel):
    value: str
    label: str


class FieldInfo(ApiModel):
    name: str
    type: str
    label: str
    hint: str | None
    required: bool
    options: list[OptionInfo]
    min: int | None
    max: int | None
    max_length: int | None
    suffix: str | None
    conditional: bool = PydField(
        description="True when the field is asked only for some earlier answers"
    )


class StepInfo(ApiModel):
    id: str
    title: str
    description: str | None
    fields: list[FieldInfo]


class ProcedureSummary(ApiModel):
    id: str
    national_procedure_id: str | None
    title: str
    kana: str = PydField(description="Reading in hiragana, for search")
    summary: str
    life_events: list[LifeEventRef]
    department: DepartmentRef
    channel: Literal["online", "counter", "both"]
    identity_level: Literal["none", "login", "signature"]
    estimated_minutes: int
    fee: FeeInfo | None
    url: str = PydField(description="Absolute URL of the procedure's HTML start page")
    api_url: str = PydField(description="Absolute URL of this procedure in the API")


class ProcedureDetail(ProcedureSummary):
    purpose_of_use: str
    legal_basis: str
    what_you_need: list[str]
    processing_time: str
    next_steps: str
    attachments: list[AttachmentInfo]
    deadline: DeadlineInfo | None
    retention: RetentionInfo
    steps: list[StepInfo]


class ProcedureList(ApiModel):
    procedures: list[ProcedureSummary]


class ErrorBody(ApiModel):
    code: str = PydField(description="Machine-readable, e.g. not_found")
    message: str = PydField(description="Japanese message for people")


class Error(ApiModel):
    error: ErrorBody


COMPONENT_MODELS: tuple[type[ApiModel], ...] = (
    ProcedureList,
    ProcedureSummary,
    ProcedureDetail,
    Error,
)


def component_schemas() -> dict[str, Any]:
    """JSON Schemas of the response models, keyed by model name, refs into components."""
    schemas: dict[str, Any] = {}

    def add(name: str, schema: dict[str, Any]) -> None:
        if name in schemas and schemas[name] != schema:
            raise ValueError(f"two different schemas named {name}")
        schemas[name] = schema

    for model in COMPONENT_MODELS:
        schema = model.model_json_schema(ref_template=SCHEMA_REF, mode="serialization")
        for name, definition in schema.pop("$defs", {}).items():
            add(name, definition)
        add(model.__name__, schema)
    return dict(sorted(schemas.items()))


def _json(ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": SCHEMA_REF.format(model=ref)}}},
    }


def _errors(*codes: int) -> dict[str, Any]:
    descriptions = {404: "Not found", 405: "Method not allowed"}
    responses = {str(code): _json("Error", descriptions[code]) for code in codes}
    responses["default"] = _json("Error", "Any other error")
    return responses


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of the API (built once; it depends only on the code)."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": API_TITLE,
            "version": API_VERSION,
            "description": (
                "Read-only access to the city's procedure catalog (public information, no "
                "personal data). This is a demonstration, not an official service."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/procedures": {
                "get": {
                    "operationId": "listProcedures",
                    "summary": "List procedures",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "required": False,
                            "description": (
                                "Substring of the title, the summary or the kana reading "
                                "(hiragana or katakana)"
                            ),
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "life_event",
                            "in": "query",
                            "required": False,
                            "description": "Life event id, e.g. moving; unknown ids match nothing",
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": _json("ProcedureList", "The matching procedures"),
                        **_errors(405),
                    },
                }
            },
            "/procedures/{procedure_id}": {
                "get": {
                    "operationId": "getProcedure",
                    "summary": "One procedure, with its steps and fields",
                    "parameters": [
                        {
                            "name": "procedure_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": _json("ProcedureDetail", "The procedure"),
                        **_errors(404, 405),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApiDocument",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_errors(405),
                    },
                }
            },
        },
        "components": {"schemas": component_schemas()},
    }
