"""The read-only JSON API at /api/v1: the OpenAPI document, the procedure list and search, one
procedure, and JSON errors (never the HTML error page)."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from openapi_spec_validator.shortcuts import get_validator_cls
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

pytestmark = pytest.mark.db

DOC_URI = "urn:portal:api:openapi"
STEPS = {
    "applicant": ["applicant_name", "applicant_kana", "phone", "relationship"],
    "target": ["scope", "members", "items"],
    "copies-purpose": ["copies", "purpose", "purpose_detail"],
    "delivery": ["delivery"],
}


def _openapi(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _validator(client, component: str) -> Draft202012Validator:
    """A validator for one component schema of the served document, its $refs resolved in it."""
    document = _openapi(client)
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource(DOC_URI, resource)
    schema = {"$ref": f"{DOC_URI}#/components/schemas/{component}"}
    return Draft202012Validator(schema, registry=registry)


def _json(response, status: int = 200):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def _ids(client, **query) -> list[str]:
    body = _json(client.get("/api/v1/procedures", query_string=query))
    _validator(client, "ProcedureList").validate(body)
    return [procedure["id"] for procedure in body["procedures"]]


# --- the OpenAPI document ------------------------------------------------------------------------


def test_openapi_document_is_valid_openapi_3_1(client):
    document = _openapi(client)
    assert document["openapi"] == "3.1.0"
    assert get_validator_cls(document) is OpenAPIV31SpecValidator
    validate(document)  # raises on an invalid document
    assert document["info"]["title"] == "いすみ市 オンライン手続 API (demonstration)"
    assert document["info"]["version"] == "1.0.0"
    assert document["servers"] == [{"url": "/api/v1"}]


def test_openapi_document_describes_the_three_endpoints(client):
    document = _openapi(client)
    assert set(document["paths"]) == {"/procedures", "/procedures/{procedure_id}", "/openapi.json"}
    assert {"ProcedureSummary", "ProcedureDetail", "Error"} <= set(
        document["components"]["schemas"]
    )

    def ok_schema(path: str) -> dict:
        response = document["paths"][path]["get"]["responses"]["200"]
        return response["content"]["application/json"]["schema"]

    assert ok_schema("/procedures") == {"$ref": "#/components/schemas/ProcedureList"}
    assert ok_schema("/procedures/{procedure_id}") == {
        "$ref": "#/components/schemas/ProcedureDetail"
    }
    not_found = document["paths"]["/procedures/{procedure_id}"]["get"]["responses"]["404"]
    assert not_found["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    parameters = {p["name"] for p in document["paths"]["/procedures"]["get"]["parameters"]}
    assert parameters == {"q", "life_event"}


def test_published_schemas_keep_internal_data_out(client):
    schemas = _openapi(client)["components"]["schemas"]
    detail = schemas["ProcedureDetail"]["properties"]
    assert "example_answers" not in detail
    assert "declaration" not in detail
    field = schemas["FieldInfo"]["properties"]
    assert "conditional" in field
    assert "when" not in field
    assert "rule" not in schemas["FeeInfo"]["properties"]


# --- the list and its filters --------------------------------------------------------------------


def test_list_validates_and_contains_the_juminhyo_copy(client):
    body = _json(client.get("/api/v1/procedures"))
    _validator(client, "ProcedureList").validate(body)
    summary_validator = _validator(client, "ProcedureSummary")
    by_id = {procedure["id"]: procedure for procedure in body["procedures"]}
    juminhyo = by_id["juminhyo-copy"]
    summary_validator.validate(juminhyo)
    assert juminhyo["title"] == "住民票の写し等の交付請求"
    assert juminhyo["kana"] == "じゅうみんひょうのうつしとうのこうふせいきゅう"
    assert juminhyo["life_events"] == [{"id": "moving", "label": "引越し"}]
    assert juminhyo["department"] == {"id": "shimin", "name": "市民課"}
    assert juminhyo["channel"] == "both"
    assert juminhyo["identity_level"] == "none"
    assert juminhyo["estimated_minutes"] == 3
    assert juminhyo["fee"] == {"description": "1通300円"}
    assert juminhyo["national_procedure_id"] is None
    assert juminhyo["url"] == "http://localhost/procedures/juminhyo-copy"
    assert juminhyo["api_url"] == "http://localhost/api/v1/procedures/juminhyo-copy"
    assert "steps" not in juminhyo  # the summary, not the detail


def test_the_schema_validation_is_not_vacuous(client):
    summary = _json(client.get("/api/v1/procedures"))["procedures"][0]
    validator = _validator(client, "ProcedureSummary")
    validator.validate(summary)
    missing = {k: v for k, v in summary.items() if k != "title"}
    extra = {**summary, "example_answers": {}}
    wrong = {**summary, "channel": "fax"}
    for bad in (missing, extra, wrong):
        assert not validator.is_valid(bad), bad


def test_the_list_links_work(client):
    summary = next(
        p
        for p in _json(client.get("/api/v1/procedures"))["procedures"]
        if p["id"] == "juminhyo-copy"
    )
    assert client.get(summary["url"]).status_code == 200
    assert _json(client.get(summary["api_url"]))["id"] == "juminhyo-copy"


@pytest.mark.parametrize(
    "query",
    [
        {"q": "住民票"},
        {"q": "じゅうみんひょう"},
        {"q": "ジュウミンヒョウ"},
        {"q": "ｼﾞｭｳﾐﾝﾋｮｳ"},  # half-width katakana
        {"q": " じゅうみん "},
        {"q": "郵送"},  # in the summary only
        {"q": ""},
        {"life_event": "moving"},
        {"q": "住民票", "life_event": "moving"},
    ],
)
def test_filters_that_find_the_juminhyo_copy(client, query):
    assert "juminhyo-copy" in _ids(client, **query)


@pytest.mark.parametrize(
    "query",
    [
        {"life_event": "birth"},
        {"life_event": "no-such-event"},
        {"q": "住民票", "life_event": "birth"},
    ],
)
def test_filters_that_leave_the_juminhyo_copy_out(client, query):
    assert "juminhyo-copy" not in _ids(client, **query)


def test_a_search_without_matches_gives_an_empty_list(client):
    body = _json(client.get("/api/v1/procedures", query_string={"q": "zzz"}))
    assert body == {"procedures": []}


# --- one procedure -------------------------------------------------------------------------------


def test_detail_validates_and_lists_the_steps_in_order(client):
    body = _json(client.get("/api/v1/procedures/juminhyo-copy"))
    _validator(client, "ProcedureDetail").validate(body)
    assert [step["id"] for step in body["steps"]] == list(STEPS)
    for step in body["steps"]:
        assert [field["name"] for field in step["fields"]] == STEPS[step["id"]]
    assert body["steps"][0]["title"] == "請求する方について"
    assert body["legal_basis"].startswith("住民基本台帳法第12条")
    assert body["retention"] == {
        "years": 5,
        "basis": "いすみ市文書管理規程（交付請求書の保存期間）",
    }
    assert body["deadline"] is None
    assert body["attachments"] == []
    assert len(body["what_you_need"]) == 3


def test_detail_fields(client):
    body = _json(client.get("/api/v1/procedures/juminhyo-copy"))
    fields = {field["name"]: field for step in body["steps"] for field in step["fields"]}
    conditional = {name for name, field in fields.items() if field["conditional"]}
    assert conditional == {"members", "purpose_detail"}
    assert fields["copies"] == {
        "name": "copies",
        "type": "number",
        "label": "通数",
        "hint": "1通300円です。10通まで請求できます。",
        "required": True,
        "options": [],
        "min": 1,
        "max": 10,
        "max_length": None,
        "suffix": "通",
        "conditional": False,
    }
    assert fields["relationship"]["options"] == [
        {"value": "self", "label": "本人"},
        {"value": "household", "label": "同じ世帯の家族"},
    ]
    assert fields["items"]["required"] is False
    assert fields["members"]["max_length"] == 400


def test_detail_keeps_internal_data_out(client):
    text = client.get("/api/v1/procedures/juminhyo-copy").get_data(as_text=True)
    assert "example_answers" not in text
    assert "when" not in text
    assert "copies * 300" not in text  # the fee rule
    assert "大原 太郎" not in text  # an example answer
    assert '"rule"' not in text


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in [key, *_strings(item)]]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def test_detail_shows_no_rule_text(app, client):
    procedure = app.extensions["catalog"].procedure("juminhyo-copy")
    rules = [field.when for field in procedure.fields() if field.when]
    rules += [step.when for step in procedure.steps if step.when]
    rules += [a.when for a in procedure.attachments if a.when] + [procedure.fee.rule]
    assert len(rules) >= 3
    strings = _strings(_json(client.get("/api/v1/procedures/juminhyo-copy")))
    leaked = [rule for rule in rules if any(rule in string for string in strings)]
    assert not leaked


# --- errors --------------------------------------------------------------------------------------


def test_unknown_procedure_is_a_json_404(client):
    body = _json(client.get("/api/v1/procedures/no-such-thing"), 404)
    assert body == {"error": {"code": "not_found", "message": "手続が見つかりません"}}
    _validator(client, "Error").validate(body)


@pytest.mark.parametrize(
    "path", ["/api/v1/nope", "/api/v1/", "/api/v1", "/api/v1/procedures/a/b", "/api/v1/procedures/"]
)
def test_unknown_api_path_is_a_json_404(client, path):
    response = client.get(path)
    body = _json(response, 404)
    assert body["error"]["code"] == "not_found"
    _validator(client, "Error").validate(body)
    assert "<html" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/v1/procedures", "/api/v1/procedures/juminhyo-copy"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_writing_is_a_json_405(client, path, method):
    response = client.open(path, method=method)
    body = _json(response, 405)
    assert body["error"]["code"] == "method_not_allowed"
    _validator(client, "Error").validate(body)
    assert "GET" in response.headers["Allow"]


def test_pages_outside_the_api_keep_html_errors(client):
    assert client.get("/no-such-page").mimetype == "text/html"
    assert client.get("/procedures/no-such-thing").mimetype == "text/html"
    response = client.post("/")
    assert response.status_code == 405
    assert response.mimetype == "text/html"


def test_an_unexpected_error_is_a_json_500_without_details(client, monkeypatch):
    from portal.api import views

    def broken(_procedure):
        raise RuntimeError("secret detail 大原 太郎")

    monkeypatch.setattr(views, "_detail", broken)
    response = client.get("/api/v1/procedures/juminhyo-copy")
    body = _json(response, 500)
    assert body["error"]["code"] == "internal_error"
    text = response.get_data(as_text=True)
    assert "secret detail" not in text
    assert "Traceback" not in text


def test_responses_keep_the_security_headers(client):
    response = client.get("/api/v1/procedures")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Content-Type"] == "application/json"


def test_links_use_the_public_address_never_the_host_header(client):
    """A Host header is the client's choice: absolute links come from PORTAL_PUBLIC_URL."""
    body = client.get("/api/v1/procedures", headers={"Host": "evil.example"}).get_json()
    urls = [item["url"] for item in body["procedures"]]
    assert urls and all(url.startswith("http://localhost/procedures/") for url in urls)
