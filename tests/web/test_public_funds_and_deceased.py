"""Decision 0076 over HTTP (no JavaScript: every form post is what a browser without script
sends): the registered 公金受取口座 shown masked beside its option and refused with a clear
message when none is registered (the page keeps the choice); the deceased person, the date of
death and the insurance number filled from the removal records (除票) and marked as such."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from portal import clock
from portal.db import db
from portal.demo import example_answers
from portal.records.models import RecordRead
from tests.conftest import check_page
from tests.web.test_bundle_pages import errors_of, form_data
from tests.web.test_identity_features import begin, draft_of, login, post, stub  # noqa: F401

pytestmark = pytest.mark.usefixtures("stub")

SOSAI = "/procedures/sosaihi-kokuho"
KOKI = "/procedures/sosaihi-koki"
MIBARAI = "/procedures/jidoteate-mibarai"
NOW = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)  # 10:00 in Tokyo, a Monday


@pytest.fixture(autouse=True)
def fixed_clock(app):
    clock.set_override(NOW)
    yield
    clock.set_override(None)


def up_to_the_account(app, persona_id: str) -> None:
    """The resident's 葬祭費 draft with every step before the account answered (the examples,
    with the deceased as the records or the example give them)."""
    with app.app_context():
        draft = draft_of(app, "sosaihi-kokuho", f"sub-{persona_id}")
        draft = db.session.merge(draft)
        procedure = app.extensions["catalog"].procedure("sosaihi-kokuho")
        answers = example_answers(app, db.session, draft, procedure, clock.today_local())
        answers.pop("account_choice")
        draft.answers = {**answers, **draft.answers}
        draft.steps_done = ["applicant"]
        db.session.commit()


def test_the_deceased_comes_from_the_removal_record_and_says_so(app, client):
    login(client, "parent")
    assert begin(client, SOSAI).headers["Location"] == f"{SOSAI}/apply/applicant"
    draft = draft_of(app, "sosaihi-kokuho", "sub-parent")
    today = clock.today_local()
    assert draft.answers["deceased"]["name"] == "和泉 正男"
    assert draft.answers["death_date"] == (today - dt.timedelta(days=20)).isoformat()
    assert draft.answers["insured_symbol_number"] == "千い-123456"
    # her relationship to him, as the records show it: his child (decision 0083)
    assert draft.answers["relationship"] == "child"
    filled = ("deceased", "death_date", "insured_symbol_number", "relationship")
    assert {draft.prefilled[n] for n in filled} == {"records"}
    up_to_the_account(app, "parent")  # (the deceased page is asked below, as the resident sees it)
    page = check_page(client.get(f"{SOSAI}/apply/applicant"))
    assert page.find("input", attrs={"name": "deceased.name"})["value"] == "和泉 正男"
    hint = page.find(id="f-death_date-hint").get_text()
    assert "市の住民記録から入力しました" in hint  # editable, and marked as from the records
    # 後期高齢者医療's 葬祭費 finds the other death in the household: the one it is for.
    begin(client, KOKI)
    koki = draft_of(app, "sosaihi-koki", "sub-parent")
    assert koki.answers["deceased"]["name"] == "岬 ハル"
    assert koki.answers["insured_number"] == "99001234"
    assert koki.answers["relationship"] == "child-in-law"  # her husband's mother
    # 未支払の児童手当: neither received 児童手当, so the deceased is typed; her children are
    # in the records.
    begin(client, MIBARAI)
    mibarai = draft_of(app, "jidoteate-mibarai", "sub-parent")
    assert "deceased" not in mibarai.answers and "death_date" not in mibarai.answers
    assert [c["child_name"] for c in mibarai.answers["children"]] == ["岬 蒼", "岬 ひなた"]


def test_nobody_deceased_is_filled_for_a_resident_the_records_do_not_tie(app, client):
    login(client, "adult")
    begin(client, SOSAI)
    draft = draft_of(app, "sosaihi-kokuho", "sub-adult")
    assert "deceased" not in draft.answers and "death_date" not in draft.answers
    assert "relationship" not in draft.answers


def test_the_registered_account_is_shown_masked_and_chosen_with_one_tap(app, client):
    login(client, "parent")
    begin(client, SOSAI)
    up_to_the_account(app, "parent")
    response = client.get(f"{SOSAI}/apply/funeral")
    page = check_page(response)
    koukin = page.find("input", attrs={"name": "account_choice", "value": "koukin"})
    assert not koukin.has_attr("checked")  # never chosen for the resident
    hint = page.find(id=f"{koukin['id']}-option-hint").get_text()
    assert hint.startswith("登録済みの口座：千葉 御宿 普通 ●●●●567 ミサキ ハナコ")
    # the number stays masked (the page holds no 1234567 that is not part of a longer example)
    assert not re.search(r"(?<!\d)1234567(?!\d)", response.get_data(as_text=True))
    response = client.post(
        f"{SOSAI}/apply/funeral", data=form_data(response.text, {"account_choice": "koukin"})
    )
    assert response.status_code == 302, errors_of(response)
    assert response.headers["Location"].endswith(f"{SOSAI}/check")
    draft = draft_of(app, "sosaihi-kokuho", "sub-parent")
    assert draft.answers["account_choice"] == "koukin" and "bank_account" not in draft.answers
    with app.app_context():
        reads = db.session.scalars(
            select(RecordRead).where(RecordRead.record == "public_funds_account")
        ).all()
    assert reads and {(r.reader, r.person_id) for r in reads} == {
        (f"submission:{draft.public_id}", "parent")
    }
    assert all("公金受取口座の確認" in r.purpose for r in reads)


def test_without_a_registered_account_the_option_says_so_and_keeps_the_page(app, client):
    login(client, "adult")
    begin(client, SOSAI)
    up_to_the_account(app, "adult")
    response = client.get(f"{SOSAI}/apply/funeral")
    page = check_page(response)
    koukin = page.find("input", attrs={"name": "account_choice", "value": "koukin"})
    hint = page.find(id=f"{koukin['id']}-option-hint").get_text()
    assert hint.startswith("公金受取口座の登録が確認できませんでした。別の口座を選んでください。")
    response = client.post(
        f"{SOSAI}/apply/funeral", data=form_data(response.text, {"account_choice": "koukin"})
    )
    page = check_page(response)
    assert errors_of(response) == [
        "エラー： 公金受取口座が登録されていません。マイナポータルで登録してから申請するか、"
        "別の口座を選んでください"
    ]
    kept = page.find("input", attrs={"name": "account_choice", "value": "koukin"})
    assert kept.has_attr("checked")  # what was chosen is still there to change
    assert "account_choice" not in draft_of(app, "sosaihi-kokuho", "sub-adult").answers
    account = {
        "account_choice": "other",
        "bank_account.kind": "bank",
        "bank_account.bank_code": "0134",
        "bank_account.branch_code": "243",
        "bank_account.account_type": "ordinary",
        "bank_account.account_number": "7654321",
        "bank_account.holder_kana": "オオハラ タロウ",
    }
    response = client.post(f"{SOSAI}/apply/funeral", data=form_data(response.text, account))
    assert response.status_code == 302, errors_of(response)
    assert draft_of(app, "sosaihi-kokuho", "sub-adult").answers["account_choice"] == "other"


# --- date shortcuts ---------------------------------------------------------------------------

YOGU = "/procedures/kaigo-fukushi-yogu"


def test_a_date_shortcut_fills_the_date_without_javascript_and_keeps_the_page(app, client):
    """代金を支払った日 offers 今日 and 昨日: without JavaScript the button posts the form, the
    page comes back with the date in the field (和暦, as a typed date is shown), a notice, and
    every other answer as typed; nothing is saved until 次へ進む."""
    post(client, "/login", {"next": YOGU, "then": "begin-self"})
    login(client, "elderly")
    assert client.get(YOGU).headers["Location"] == f"{YOGU}/apply/insured"
    with app.app_context():
        draft = db.session.merge(draft_of(app, "kaigo-fukushi-yogu", "sub-elderly"))
        draft.answers = {**draft.answers, "contact_phone": "0470621111"}
        draft.steps_done = ["insured"]
        db.session.commit()
    url = f"{YOGU}/apply/items"
    response = client.get(url)
    page = check_page(response)
    group = page.find(attrs={"role": "group", "aria-label": "代金を支払った日の入力の近道"})
    today = clock.today_local()
    buttons = {b["value"]: b for b in group.find_all("button")}
    assert list(buttons) == [
        f"date:paid_date:{today.isoformat()}",
        f"date:paid_date:{(today - dt.timedelta(days=1)).isoformat()}",
    ]
    yesterday = buttons[f"date:paid_date:{(today - dt.timedelta(days=1)).isoformat()}"]
    assert yesterday.get_text().startswith("昨日を入れる（")
    assert (
        yesterday["data-fill-target"] == "f-paid_date"
        and yesterday["data-fill"] == "令和8年12月6日"
    )
    assert page.find("input", attrs={"name": "paid_date"})["value"] == ""  # only offered
    typed = form_data(response.text, {"total_paid": "28600", "need_reason": "浴室で使うため"})
    response = client.post(url, data={**typed, "_action": yesterday["value"]})
    page = check_page(response)
    assert page.find("input", attrs={"name": "paid_date"})["value"] == "令和8年12月6日"
    assert page.find("input", attrs={"name": "total_paid"})["value"] == "28600"
    assert page.find("textarea", attrs={"name": "need_reason"}).get_text() == "浴室で使うため"
    assert "代金を支払った日に" in page.find(class_="notice").get_text()
    assert "paid_date" not in draft_of(app, "kaigo-fukushi-yogu", "sub-elderly").answers
    # Not a date, or not a date field: the page comes back as typed, nothing filled.
    for action in ("date:paid_date:not-a-date", "date:total_paid:2026-12-01"):
        page = check_page(client.post(url, data={**typed, "_action": action}))
        assert page.find("input", attrs={"name": "paid_date"})["value"] == ""
        assert page.find("input", attrs={"name": "total_paid"})["value"] == "28600"


def test_a_nursery_start_date_offers_the_first_of_next_month_and_the_next_april(app, client):
    """入所を希望する日 is by rule the first of a month: 来月1日 and 次の4月1日 (the new year's
    admission) are offered, only offered (the field stays empty), and fill it without JavaScript."""
    login(client, "parent")
    begin(client, "/procedures/hoiku-riyou")
    with app.app_context():
        draft = db.session.merge(draft_of(app, "hoiku-riyou", "sub-parent"))
        draft.answers = {
            **draft.answers,
            "phone": "09012345678",
            "children": [{**draft.answers["children"][0], "allergy": False}],
        }
        draft.steps_done = ["guardian", "children"]
        db.session.commit()
    url = "/procedures/hoiku-riyou/apply/preferences"
    response = client.get(url)
    page = check_page(response)
    group = page.find(attrs={"role": "group", "aria-label": "入所を希望する日の入力の近道"})
    buttons = [(b["value"], b.get_text()) for b in group.find_all("button")]
    assert buttons == [  # today is 2026-12-07 in Tokyo
        ("date:start_date:2027-01-01", "来月1日を入れる（2027年（令和9年）1月1日）"),
        ("date:start_date:2027-04-01", "次の4月1日を入れる（2027年（令和9年）4月1日）"),
    ]
    assert page.find("input", attrs={"name": "start_date"})["value"] == ""
    typed = form_data(response.text, {"nursery_1": "ohara"})
    page = check_page(client.post(url, data={**typed, "_action": "date:start_date:2027-04-01"}))
    assert page.find("input", attrs={"name": "start_date"})["value"] == "令和9年4月1日"
    assert page.find("option", attrs={"value": "ohara", "selected": True}) is not None
    assert "start_date" not in draft_of(app, "hoiku-riyou", "sub-parent").answers
