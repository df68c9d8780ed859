"""Decision 0082 (issue 22): 住民票の写し with an optional login, and 妊娠の届出's number and
clinic, as form posts (no JavaScript)."""

from __future__ import annotations

from tests.conftest import check_page
from tests.web.test_bundle_pages import errors_of, form_data
from tests.web.test_identity_features import begin, draft_of, login, stub  # noqa: F401

JUMINHYO = "/procedures/juminhyo-copy"
NINSHIN = "/procedures/ninshin-todoke"


def test_a_card_holder_requesting_a_juminhyo_gets_name_and_reading(app, client, stub):  # noqa: F811
    page = check_page(client.get(JUMINHYO))
    buttons = [b.get_text(strip=True) for b in page.find_all("button")]
    assert "申請を始める" in buttons and "マイナンバーカードでログインして始める" in buttons
    # Without a login nothing is filled.
    begin(client, JUMINHYO)
    page = check_page(client.get(f"{JUMINHYO}/apply/applicant"))
    assert page.find("input", attrs={"name": "applicant_name"}).get("value") in (None, "")

    holder = login(app.test_client(), "adult")  # 大原 太郎
    begin(holder, JUMINHYO)
    draft = draft_of(app, "juminhyo-copy", "sub-adult")
    assert draft.answers["applicant_name"] == "大原 太郎"
    assert draft.answers["applicant_kana"] == "オオハラ タロウ"
    assert draft.prefilled["applicant_name"] == "card"
    assert draft.prefilled["applicant_kana"] == "records"


def _to_pregnancy(client):
    begin(client, NINSHIN)
    for step, values in (
        ("notifier", {"notifier": "self", "phone": "090-1234-5678"}),
        (
            "mother",
            {
                "mother.name": "大原 花子",
                "mother.kana": "オオハラ ハナコ",
                "mother.birth_date": "1995-06-15",
                "address.postal_code": "2988501",
                "address.prefecture": "千葉県",
                "address.city": "いすみ市",
                "address.town": "大原",
                "address.block": "7400-1",
                "my_number": "123456789018",
            },
        ),
    ):
        url = f"{NINSHIN}/apply/{step}"
        response = client.post(url, data=form_data(client.get(url).text, values))
        assert response.status_code == 302, errors_of(response)
    return f"{NINSHIN}/apply/pregnancy"


def test_the_clinic_is_chosen_from_the_list_and_typed_only_when_not_listed(app, client):
    url = _to_pregnancy(client)
    page = check_page(client.get(url))
    labels = [label.get_text(strip=True) for label in page.select("fieldset label")]
    assert "いすみ医療センター（デモ）" in labels and "一覧にない医療機関" in labels
    base = {"due_date": "2027-05-20", "diagnosed": "yes", "multiple_birth": "no"}
    # Not listed, no name yet: the page asks for it (without JavaScript, after 次へ進む).
    response = client.post(url, data=form_data(client.get(url).text, base | {"clinic": "other"}))
    assert response.status_code in (200, 422)
    assert any("医療機関の名称" in e for e in errors_of(response)), errors_of(response)
    response = client.post(
        url, data=form_data(client.get(url).text, base | {"clinic": "isumi-center"})
    )
    assert response.status_code == 302, errors_of(response)


def test_a_partner_who_notifies_types_the_mothers_number_in_its_own_field(app, stub):  # noqa: F811
    partner = login(app.test_client(), "spouse")
    begin(partner, NINSHIN)
    url = f"{NINSHIN}/apply/notifier"
    values = {
        "notifier": "partner",
        "notifier_person.name": "岬 健一",
        "notifier_person.kana": "ミサキ ケンイチ",
        "notifier_person.birth_date": "1988-09-03",
        "phone": "090-1234-5678",
    }
    assert partner.post(url, data=form_data(partner.get(url).text, values)).status_code == 302
    page = check_page(partner.get(f"{NINSHIN}/apply/mother"))
    assert page.find("input", attrs={"name": "mother_my_number"}) is not None
    assert page.find("input", attrs={"name": "my_number"}) is None
