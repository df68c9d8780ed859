"""A bundle for an expected birth (issue 22): 妊娠がわかった, with a nursery place in mind. The
checklist offers only what can be filed before the birth (妊娠の届出), files it, and says when
to come back for the rest (the nursery application is for a child already born)."""

from __future__ import annotations

import pytest

from portal import clock
from portal.catalog import load_catalog, logic
from tests.conftest import check_page, csrf_token
from tests.e2e.test_juminhyo import ROOT
from tests.web import test_bundle_pages as pages
from tests.web.test_bundle_pages import fixed_clock  # noqa: F401  (fixture)
from tests.web.test_identity_features import login, stub  # noqa: F401  (fixture)

pytestmark = [pytest.mark.db]

CHECKLIST = "/life-events/birth/checklist"
EXPECTING = {
    "stage": "pregnant",
    "event_date": "令和8年11月22日",
    "nursery": "yes",
    "juminhyo": "no",
}


def _checklist(client, answers: dict):
    page = client.get("/life-events/birth")
    response = client.post(
        "/life-events/birth", data={**answers, "csrf_token": csrf_token(page.text)}
    )
    assert response.headers["Location"] == CHECKLIST
    page = client.get(CHECKLIST)
    soup = check_page(page)
    return page, soup, [t["value"] for t in soup.select("input[name=procedure]")]


def example_form(procedure_id: str) -> dict:
    """The catalog's example answers of a procedure as its pages' inputs take them."""
    procedure = load_catalog(ROOT / "procedure_catalog.yaml").procedure(procedure_id)
    answers = logic.resolve_examples(procedure.example_answers, clock.today_local())
    form: dict = {}
    for f in procedure.fields():
        if f.name not in answers:
            continue
        raw = f.field_type.raw_from_value(f, answers[f.name], None)
        if f.type == "mynumber":  # shown masked, typed whole
            raw = answers[f.name]
        if isinstance(raw, dict):
            form.update({f"{f.name}.{part}": value for part, value in raw.items()})
        else:
            form[f.name] = raw
    return form


def test_an_expected_birth_files_what_it_can_and_says_when_to_come_back(app, client, stub):  # noqa: F811
    login(client, "adult")
    stub.signer = "adult"
    page, soup, offered = _checklist(client, EXPECTING)
    # Not the nursery application: it asks for the baby, who is not born yet.
    assert offered == ["ninshin-todoke"]
    text = soup.get_text()
    assert "保育施設等の利用申込（生まれてから）" in text
    assert "「赤ちゃんが生まれた」を選び、もう一度まとめて申請できます" in text

    response = client.post(
        CHECKLIST, data={"csrf_token": csrf_token(page.text), "procedure": offered}
    )
    assert response.status_code == 303, response.status_code
    first = response.headers["Location"]
    shown, _check = pages.fill_in(client, first, example_form("ninshin-todoke"))
    assert not any("/shared/babies" in path for path in shown)  # never asked for the baby
    path = pages.bundle_path(first)
    response = pages.post_check(client, path)
    if response.status_code == 302:  # a member needs the signature
        response = client.get("/sign/callback")
    assert response.status_code == 303 and response.headers["Location"] == f"{path}?done=1"
    bundle, members = pages.stored(app, path)
    assert bundle.status == "submitted" and list(members) == ["ninshin-todoke"]


def test_after_the_birth_the_nursery_application_is_offered(client, stub):  # noqa: F811
    login(client, "adult")
    _page, soup, offered = _checklist(client, EXPECTING | {"stage": "born"})
    assert "hoiku-riyou" in offered
    assert "（生まれてから）" not in soup.get_text()
