"""Decision 0085 over HTTP (no JavaScript: every form post is what a browser without script
sends): 区分変更 and 被保険者証の再交付 ask everything on one page, and a question that applies
only after an answer (the 負担割合証 when the card was lost, the medical insurance of a 第2号
被保険者) is asked only then."""

from __future__ import annotations

import pytest

from tests.web.test_bundle_pages import errors_of, form_data
from tests.web.test_identity_features import begin, draft_of, login, post, stub  # noqa: F401

pytestmark = pytest.mark.usefixtures("stub")

SAIKOFU = "/procedures/kaigo-hihokensha-saikofu"
KUBUN = "/procedures/kaigo-kubun-henko"


def start(client, path: str, first_step: str) -> str:
    post(client, "/login", {"next": path, "then": "begin-self"})
    login(client, "elderly")
    assert client.get(path).headers["Location"] == f"{path}/apply/{first_step}"
    return f"{path}/apply/{first_step}"


def test_the_reissue_asks_the_co_payment_certificate_only_when_the_card_was_lost(app, client):
    url = start(client, SAIKOFU, "insured")
    html = client.get(url).get_data(as_text=True)
    assert 'name="reason"' in html and 'name="delivery"' in html  # one page
    phone = "090-1234-5678"
    typed = form_data(html, {"reason": "lost", "delivery": "post-home", "contact_phone": phone})
    typed.pop("also_wariai", None)
    response = client.post(url, data=typed)
    assert response.status_code == 200  # the page again: the question applies now
    assert any("負担割合証" in e for e in errors_of(response))
    typed = form_data(html, {"reason": "damaged", "delivery": "post-home", "contact_phone": phone})
    typed.pop("also_wariai", None)
    response = client.post(url, data=typed)
    assert response.status_code == 302, errors_of(response)
    answers = draft_of(app, "kaigo-hihokensha-saikofu", "sub-elderly").answers
    assert answers["reason"] == "damaged" and "also_wariai" not in answers


def test_the_change_of_level_asks_the_medical_insurance_only_of_a_second_category(app, client):
    url = start(client, KUBUN, "change")
    html = client.get(url).get_data(as_text=True)
    values = {
        "change_events": "fall",
        "change_reason": "自宅で転倒して右足を骨折し、つえがないと歩けなくなりました。",
        "change_period": "within-month",
        "in_hospital": "no",
        "survey_contact": "applicant",
        "contact_phone": "090-1234-5678",
    }
    response = client.post(url, data=form_data(html, {**values, "insured_category": "second"}))
    assert response.status_code == 200
    assert any("医療保険" in e or "特定疾病" in e for e in errors_of(response))
    response = client.post(url, data=form_data(html, values))  # 第1号 from the records
    assert response.status_code == 302, errors_of(response)
    answers = draft_of(app, "kaigo-kubun-henko", "sub-elderly").answers
    assert answers["change_period"] == "within-month" and "medical_insurer" not in answers
