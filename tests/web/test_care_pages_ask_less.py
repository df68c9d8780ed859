"""Decision 0083: the care-insurance pages that ask less. 負担限度額認定 is one page whose
questions appear when their answer needs them (the facility's name only for one not on the city's
list, the assets unless on welfare); 高額介護サービス費 asks the first month only without the
city's notice; 住宅改修費 chooses the contractor from the city's list. Without JavaScript
(form posts), each conditional question is hidden, then asked after the answer that needs it;
the wrapper carries the table portal.js shows it by."""

from __future__ import annotations

import json

import pytest

from portal.db import db
from tests.conftest import check_page
from tests.web.test_identity_features import draft_of, login, post, stub  # noqa: F401

pytestmark = pytest.mark.usefixtures("stub")

GENDOGAKU = "/procedures/kaigo-gendogaku"
KOGAKU = "/procedures/kaigo-kogaku"
JUTAKU = "/procedures/kaigo-jutaku-kaishu"


def _own_first_page(client, base: str, step: str) -> None:
    post(client, "/login", {"next": base, "then": "begin-self"})
    login(client, "elderly")
    assert client.get(base).headers["Location"] == f"{base}/apply/{step}"


def _wrapper(page, name: str):
    return page.find("input", attrs={"name": "_conditional", "value": name}).parent


def _visible_labels(page) -> str:
    return " ".join(
        tag.get_text() for tag in page.select(".label, .legend") if not tag.find_parent(hidden=True)
    )


def test_the_reduced_charge_is_one_page_and_asks_the_facility_name_only_off_the_list(app, client):
    _own_first_page(client, GENDOGAKU, "insured")
    page = check_page(client.get(f"{GENDOGAKU}/apply/insured"))
    procedure = app.extensions["catalog"].procedure("kaigo-gendogaku")
    assert [s.id for s in procedure.steps] == ["insured"]
    # The facility is a choice from the city's list; its name is typed only for another one.
    name = _wrapper(page, "facility_name")
    assert name.has_attr("hidden")
    assert json.loads(name["data-conditional"]) == {
        "on": [["facility", "one"]],
        "show": [["other"]],
    }
    # The assets are asked until the answer says 生活保護 (then not).
    savings = _wrapper(page, "savings")
    assert not savings.has_attr("hidden")
    assert ["welfare"] not in json.loads(savings["data-conditional"])["show"]
    # The insured person's consent to the inquiries is part of the declaration, never ticked.
    assert "介護保険法第203条" in procedure.declaration
    assert page.find("input", attrs={"name": "inquiry_consent"}) is None
    assert "施設の名称" not in _visible_labels(page)


def test_without_javascript_the_facility_name_is_asked_after_another_facility(app, client):
    _own_first_page(client, GENDOGAKU, "insured")
    form = {
        "use_type": "short-stay",
        "facility": "other",
        "has_spouse": "no",
        "_conditional": ["facility_name", "facility_address", "admission_date"],
    }
    response = post(client, f"{GENDOGAKU}/apply/insured", form)
    assert response.status_code == 200, response.text[:300]
    page = check_page(response)
    assert "質問を追加しました" in page.get_text()
    wrapper = _wrapper(page, "facility_name")
    assert not wrapper.has_attr("hidden")
    assert wrapper.find("input", attrs={"name": "facility_name"}).has_attr("required")
    assert "facility" not in draft_of(app, "kaigo-gendogaku", "sub-elderly").answers


def test_the_first_month_is_asked_only_without_the_citys_notice(app, client):
    _own_first_page(client, KOGAKU, "claim")
    page = check_page(client.get(f"{KOGAKU}/apply/claim"))
    month = _wrapper(page, "first_month")
    assert month.has_attr("hidden")
    assert json.loads(month["data-conditional"]) == {
        "on": [["notice_received", "one"]],
        "show": [["no"]],
    }
    # The insured person is on the same page (from the card and the care records).
    assert page.find("input", attrs={"name": "insured_number"})["value"] == "9900000001"
    form = {"notice_received": "no", "deceased": "no", "_conditional": ["first_month"]}
    page = check_page(post(client, f"{KOGAKU}/apply/claim", form))
    assert not _wrapper(page, "first_month").has_attr("hidden")
    assert "質問を追加しました" in page.get_text()


def test_the_contractor_is_chosen_from_the_citys_list(app, client):
    _own_first_page(client, JUTAKU, "stage")
    with app.app_context():
        draft = db.session.merge(draft_of(app, "kaigo-jutaku-kaishu", "sub-elderly"))
        extra = {"stage": "after", "prior_confirmed": True, "contact_phone": "0470621111"}
        draft.answers = {**draft.answers, **extra}
        draft.steps_done = ["stage"]
        db.session.commit()
    page = check_page(client.get(f"{JUTAKU}/apply/completion"))
    options = [i["value"] for i in page.find_all("input", attrs={"name": "done_contractor"})]
    assert options[0] == "sotobo-reform" and options[-1] == "other"
    assert _wrapper(page, "done_contractor_name").has_attr("hidden")
    # The account is asked on the same page (one choice: the 公金受取口座).
    assert page.find("input", attrs={"name": "account_choice", "value": "koukin"}) is not None
