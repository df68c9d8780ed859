"""Issue 5 at the HTTP level, with a stub identity provider: login keeps the card's items and the
matching record id; procedures that need a login send visitors to it; prefilled answers are
marked and locked ones cannot be changed by posting; 代理 through the household records or a
letter; who may open a submission made while signed in; and every way signing can fail ends on a
Japanese page that keeps the draft."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re

import pytest
from cryptography.hazmat.primitives import serialization
from flask import redirect, request
from sqlalchemy import select

from portal import clock
from portal.db import db
from portal.demo import example_answers
from portal.demo_data.people import load_personas
from portal.identity import signature as signatures
from portal.identity.providers import Identity, ProviderError, SignedDocuments
from portal.identity.sessions import IDLE_TIMEOUT
from portal.mock_jpki.ca import MockCA
from portal.records.models import RecordRead
from portal.submissions import service
from portal.submissions.models import Submission
from tests.conftest import check_page, csrf_token
from tests.web.test_engine import APPLICANT, JUMINHYO

PERSONAS = load_personas()
HOIKU = "/procedures/hoiku-riyou"
KAIGO = "/procedures/kaigo-nintei"
TARGET = f"{JUMINHYO}/apply/target"


class StubProvider:
    """Logs in as ?as=<persona> at once; signs with the mock CA (or fails with ?fail=<kind>)."""

    name = "stub"

    def __init__(self, ca: MockCA) -> None:
        self.ca = ca
        self.pending: dict[str, list[dict]] = {}
        self.signer = None
        self.fail_with: str | None = None

    def begin_login(self, return_url: str, my_number: bool = False):
        self.asked_my_number = my_number
        return redirect(return_url)

    def finish_login(self) -> Identity:
        if request.args.get("fail"):
            raise ProviderError(request.args["fail"])
        persona = PERSONAS[request.args.get("as", "adult")]
        items = persona.four_items()
        return Identity(
            "jpki",
            f"sub-{persona.id}",
            items["name"],
            items["address"],
            items["birthdate"],
            items["gender"],
            persona.my_number if getattr(self, "asked_my_number", False) else "",
        )

    def begin_signature(self, documents, return_url):
        self.pending["t1"] = documents
        return "t1", redirect(return_url)

    def finish_signature(self, transaction_id: str) -> SignedDocuments:
        if self.fail_with:
            raise ProviderError(self.fail_with)
        persona = PERSONAS[self.signer]
        signed = []
        for document in self.pending[transaction_id]:
            digest = base64.urlsafe_b64decode(document["digest"] + "=")
            raw = self.ca.sign(persona, digest, clock.now())
            signed.append(
                {**document, "signature": base64.urlsafe_b64encode(raw).decode().rstrip("=")}
            )
        cert = self.ca.certificate(persona, "signature", clock.now())
        return SignedDocuments(
            f"sub-{persona.id}", signed, cert.public_bytes(serialization.Encoding.PEM).decode()
        )

    def trust_anchors(self):
        root = self.ca.root_certificate.public_bytes(serialization.Encoding.PEM)
        crl = self.ca.crl(clock.now()).public_bytes(serialization.Encoding.PEM)
        return signatures.TrustAnchors(root, crl)


@pytest.fixture
def stub(app, tmp_path):
    provider = StubProvider(MockCA(tmp_path / "ca"))
    app.extensions["identity_provider"] = provider
    return provider


def login(client, persona_id: str):
    response = client.get(f"/login/callback?as={persona_id}")
    assert response.status_code == 302
    return client


def post(client, url, data, **kwargs):
    token = csrf_token(client.get(url).text)
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def begin(client, base):
    return client.post(f"{base}/start", data={"csrf_token": csrf_token(client.get(base).text)})


def draft_of(app, procedure_id: str, owner: str) -> Submission:
    with app.app_context():
        return db.session.scalar(
            select(Submission).where(
                Submission.procedure_id == procedure_id, Submission.owner_sub == owner
            )
        )


def test_login_keeps_the_card_items_and_the_record_it_matches(app, client, stub):
    login(client, "parent")
    with client.session_transaction() as web_session:
        user = web_session["user"]
    assert user["person_id"] == "parent"
    assert user["card"]["address"] == "千葉県いすみ市岬町和泉567番地"
    with app.app_context():
        reads = db.session.scalars(select(RecordRead)).all()
    assert [(r.reader, r.person_id, r.record) for r in reads] == [
        ("login", "parent", "find_person")
    ]


def test_a_procedure_that_needs_a_login_sends_visitors_to_it(client, stub):
    page = check_page(client.get(HOIKU))
    assert page.find("button", string="ログインして申請を始める")
    response = begin(client, HOIKU)
    assert response.headers["Location"].startswith("/login?next=")


NINSHIN = "/procedures/ninshin-todoke"


def test_an_optional_login_offers_both_ways_and_a_card_holder_gets_the_prefill(app, client, stub):
    """妊娠の届出 (optional_login): anyone may start without a login; a card holder who logs in
    gets her name, birth date and address from the card and the records (issue 22)."""
    page = check_page(client.get(NINSHIN))
    buttons = [b.get_text(strip=True) for b in page.find_all("button")]
    assert "申請を始める" in buttons and "マイナンバーカードでログインして始める" in buttons
    assert begin(client, NINSHIN).headers["Location"] == f"{NINSHIN}/apply/notifier"
    with app.app_context():
        anonymous = db.session.scalar(
            select(Submission).where(Submission.procedure_id == "ninshin-todoke")
        )
        assert anonymous.owner_sub is None and "mother" not in anonymous.answers

    signed_in = app.test_client()
    login(signed_in, "parent")
    page = check_page(signed_in.get(NINSHIN))
    assert "マイナンバーカードでログインして始める" not in [
        b.get_text(strip=True) for b in page.find_all("button")
    ]
    assert begin(signed_in, NINSHIN).headers["Location"] == f"{NINSHIN}/apply/notifier"
    draft = draft_of(app, "ninshin-todoke", "sub-parent")
    assert draft.answers["mother"]["name"] == "岬 花子"
    assert draft.answers["address"]["town"] == "岬町和泉"
    assert draft.prefilled == {"mother": "card", "address": "card"}


def test_a_partner_who_logs_in_is_not_taken_for_the_mother(app, stub):
    """The mother's fields show the card of whoever logs in: a partner who notifies and keeps
    them is told to enter the mother (the check of 妊娠の届出), and nothing is lost."""
    from tests.web.test_bundle_pages import errors_of, form_data

    partner = login(app.test_client(), "spouse")  # 岬 健一
    begin(partner, NINSHIN)
    notifier = f"{NINSHIN}/apply/notifier"
    page = partner.get(notifier)
    values = {
        "notifier": "partner",
        "notifier_person.name": "岬 健一",
        "notifier_person.kana": "ミサキ ケンイチ",
        "notifier_person.birth_date": "1988-09-03",
        "phone": "090-1234-5678",
    }
    assert partner.post(notifier, data=form_data(page.text, values)).status_code == 302
    mother = f"{NINSHIN}/apply/mother"
    page = partner.get(mother)
    response = partner.post(mother, data=form_data(page.text, {"mother_my_number": "100000000030"}))
    assert response.status_code == 200
    assert "届出をする方と同じです" in response.text, (response.status_code, response.text[-3000:])
    fixed = {
        "mother.name": "岬 花子",
        "mother.kana": "ミサキ ハナコ",
        "mother.birth_date": "1990-04-10",
    }
    page = partner.get(mother)
    response = partner.post(
        mother, data=form_data(page.text, fixed | {"mother_my_number": "100000000021"})
    )
    assert response.status_code == 302, errors_of(response)


def test_prefilled_answers_are_marked_and_locked_ones_cannot_be_posted_over(app, client, stub):
    login(client, "parent")
    assert begin(client, HOIKU).headers["Location"] == f"{HOIKU}/apply/guardian"
    draft = draft_of(app, "hoiku-riyou", "sub-parent")
    assert draft.prefilled == {
        "guardian": "card",
        "address": "card",
        "children": "records",
        "income_source": "records",
        "has_partner": "records",  # 岬 健一 lives in her household
    }
    assert draft.answers["children"] == [
        {"child_name": "岬 ひなた", "child_kana": "ミサキ ヒナタ", "child_birth_date": "2023-02-14"}
    ]
    page = check_page(client.get(f"{HOIKU}/apply/guardian"))
    assert "岬 花子（ミサキ ハナコ）" in page.main.get_text()
    assert page.find("input", attrs={"name": "guardian.name"}) is None
    hint = page.find(id="f-address-hint") or page.find(string=re.compile("カードの情報から"))
    assert hint is not None
    response = post(
        client,
        f"{HOIKU}/apply/guardian",
        {
            "guardian.name": "なりすまし 太郎",
            "guardian.kana": "ナリスマシ タロウ",
            "guardian.birth_date": "2000-01-01",
            "phone": "0470621111",
            "address.postal_code": "2994503",
            "address.prefecture": "千葉県",
            "address.city": "いすみ市",
            "address.town": "岬町和泉",
            "address.block": "567番地",
        },
    )
    assert response.status_code == 302
    assert draft_of(app, "hoiku-riyou", "sub-parent").answers["guardian"]["name"] == "岬 花子"


def test_someone_who_moved_in_this_year_is_asked_for_the_tax_certificate(app, client, stub):
    clock.set_override(clock.now().replace(year=2026, month=11, day=22))
    login(client, "moved")
    begin(client, HOIKU)
    assert draft_of(app, "hoiku-riyou", "sub-moved").answers["income_source"] == "attach"


def test_acting_for_a_household_member_reads_their_records(app, client, stub):
    login(client, "spouse")
    assert begin(client, KAIGO).headers["Location"] == f"{KAIGO}/who"
    # The first step is not reachable before saying whom it is for.
    assert client.get(f"{KAIGO}/apply/insured").headers["Location"] == f"{KAIGO}/who"
    page = check_page(client.get(f"{KAIGO}/who"))
    labels = [label.get_text(strip=True) for label in page.select(".choice__label")]
    assert "岬 花子 さん（同じ世帯の方）" in labels and "岬 蒼 さん（同じ世帯の方）" in labels
    # A person from another household cannot be slipped in as a household member.
    response = post(client, f"{KAIGO}/who", {"who": "member-elderly"})
    assert "どなたについての申請ですか" in check_page(response).title.get_text()
    response = post(client, f"{KAIGO}/who", {"who": "member-child-2"})
    assert response.headers["Location"] == f"{KAIGO}/apply/insured"
    draft = draft_of(app, "kaigo-nintei", "sub-spouse")
    assert draft.subject_person_id == "child-2"
    assert draft.acting_for["delegation"] == "household_record"
    assert draft.answers["insured"]["name"] == "岬 ひなた"
    assert draft.prefilled["insured"] == "records"


def test_acting_with_a_letter_needs_the_letter_and_reads_no_records(app, client, stub):
    login(client, "family")
    begin(client, KAIGO)
    person = {
        "who": "other",
        "subject.name": "中村 キヨ",
        "subject.kana": "ナカムラ キヨ",
        "subject.birth_date": "1946-03-08",
        "relationship": "family",
    }
    response = post(client, f"{KAIGO}/who", person)
    page = check_page(response)
    assert page.find("a", string="委任状を選んでください")
    assert page.find("input", attrs={"name": "subject.name"})["value"] == "中村 キヨ"
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    response = post(
        client,
        f"{KAIGO}/who",
        {**person, "letter": (io.BytesIO(pdf), "委任状.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    draft = draft_of(app, "kaigo-nintei", "sub-family")
    assert draft.subject_person_id == "elderly"  # so that she sees it later
    assert draft.acting_for["delegation"] == "letter" and len(draft.acting_for["letter"]) == 1
    assert "insured_number" not in draft.answers  # her records are not read for the proxy
    assert draft.prefilled == {}


def submitted_by(app, client, persona_id: str) -> Submission:
    """A 要介護認定 application made by a proxy with a letter for 中村 キヨ."""
    login(client, persona_id)
    begin(client, KAIGO)
    draft = draft_of(app, "kaigo-nintei", f"sub-{persona_id}")
    with app.app_context():
        row = db.session.get(Submission, draft.id)
        procedure = service.procedure_of(row)
        service.set_subject(
            db.session,
            row,
            relationship="care-manager",
            subject_person_id="elderly",
            applicant_name="渡辺 健",
            subject_name="中村 キヨ",
            subject_birth_date="1946-03-08",
            delegation="letter",
        )
        # The catalog's examples in their stored form (the My Number encrypted, as always).
        row.answers = example_answers(app, db.session, row, procedure, clock.today_local())
        row.steps_done = [s.id for s in procedure.steps]
        service.submit(
            db.session, row, True, app.config["STATUS_LINK_KEY"], clock.today_local(), clock.now()
        )
        db.session.commit()
        return row


def test_who_may_open_an_application_made_while_signed_in(app, stub):
    maker = login(app.test_client(), "care-manager")
    submission = submitted_by(app, maker, "care-manager")
    token = service.status_token(app.config["STATUS_LINK_KEY"], submission)
    status = f"/status/{token}"
    assert check_page(maker.get(status)).find(string=re.compile("この申請を取り下げる"))

    anonymous = app.test_client()
    assert anonymous.get(status).headers["Location"].startswith("/login?next=")

    concerned = login(app.test_client(), "elderly")
    page = check_page(concerned.get(status))
    assert page.find(string=re.compile("この申請を取り下げる")) is None
    assert concerned.get(f"{status}/withdraw").status_code == 404
    listing = check_page(concerned.get("/my/applications")).main.get_text()
    assert (
        "あなたについての申請（代理人：渡辺 健 さん・ケアマネジャー（居宅介護支援事業者））"
        in listing
    )

    stranger = login(app.test_client(), "adult")
    assert stranger.get(status).status_code == 404
    assert stranger.get(f"/my/applications/{submission.public_id}").status_code == 404
    assert stranger.get(f"{status}/receipt").status_code == 404


def signing_client(app, stub, persona_id: str = "parent"):
    """A signed-in resident with a complete 保育施設等の利用申込 draft."""
    client = login(app.test_client(), persona_id)
    begin(client, HOIKU)
    draft = draft_of(app, "hoiku-riyou", f"sub-{persona_id}")
    with app.app_context():
        row = db.session.get(Submission, draft.id)
        procedure = service.procedure_of(row)
        answers = dict(procedure.example_answers)
        answers.pop("employer")
        answers.pop("weekly_hours")
        answers["guardian_work"] = "job-seeking"
        row.answers = answers
        row.steps_done = [s.id for s in procedure.steps]
        db.session.commit()
    stub.signer = persona_id
    return client


def sign(client):
    response = post(client, f"{HOIKU}/check", {"declaration": "yes"})
    assert response.headers["Location"].endswith("/sign/callback")
    return client.get("/sign/callback")


def test_a_signed_application_verifies_until_an_answer_changes(app, stub):
    client = signing_client(app, stub)
    response = sign(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == f"{HOIKU}/done"
    submission = draft_of(app, "hoiku-riyou", "sub-parent")
    assert submission.reference and submission.signature["certificate"].startswith("-----BEGIN")
    token = service.status_token(app.config["STATUS_LINK_KEY"], submission)
    assert "署名検証: 有効" in check_page(client.get(f"/status/{token}")).get_text()
    with app.app_context():
        row = db.session.get(Submission, submission.id)
        row.answers = {**row.answers, "nursery_1": "taito"}
        db.session.commit()
    text = check_page(client.get(f"/status/{token}")).get_text()
    assert "署名検証: 無効" in text and "署名の後で申請内容が変更されています" in text


def test_no_submission_without_a_signature(app, stub):
    signing_client(app, stub)
    with app.app_context():
        row = db.session.get(Submission, draft_of(app, "hoiku-riyou", "sub-parent").id)
        with pytest.raises(service.SignatureMissing):
            service.submit(db.session, row, True, "k", clock.today_local(), clock.now())


@pytest.mark.parametrize(
    ("kind", "heading"),
    [
        ("signature_certificate_revoked", "署名用電子証明書が失効しています"),
        ("no_signature_certificate", "署名用電子証明書がありません"),
        ("signature_locked", "署名用電子証明書のパスワードがロックされています"),
        ("access_denied", "署名を取りやめました"),
        ("unreachable", "本人確認サービスにつながりません"),
    ],
)
def test_signing_failures_keep_the_draft(app, stub, kind, heading):
    client = signing_client(app, stub)
    stub.fail_with = kind
    response = sign(client)
    page = check_page(response, 503 if kind == "unreachable" else 400)
    assert page.h1.get_text() == heading
    assert page.find("a", string="申請内容の確認に戻る")["href"] == f"{HOIKU}/check"
    moving = page.find("a", string="引っ越しの手続")
    assert (moving is not None) == (kind == "signature_certificate_revoked")
    assert service.is_draft(draft_of(app, "hoiku-riyou", "sub-parent"))
    assert client.get(f"{HOIKU}/check").status_code == 200


JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")  # kana and kanji


def assert_not_japanese(*texts: str) -> None:
    for text in texts:
        assert text.strip() and not JAPANESE.search(text), text


@pytest.mark.parametrize("lang", ["en", "pt"])
@pytest.mark.parametrize("kind", ["access_denied", "unreachable", "card_locked"])
def test_a_login_failure_page_is_in_the_residents_language(client, stub, lang, kind):
    client.get(f"/?lang={lang}")
    page = check_page(
        client.get(f"/login/callback?fail={kind}"), 503 if kind == "unreachable" else 400
    )
    assert_not_japanese(page.title.get_text(), page.h1.get_text())
    if kind != "card_locked":  # a locked card: no message and no retry, only where to reset it
        message = page.h1.find_next("p")
        retry = page.find("a", class_="button")
        assert retry["href"].startswith("/login")
        assert_not_japanese(message.get_text(), retry.get_text())


@pytest.mark.parametrize("lang", ["en", "pt"])
@pytest.mark.parametrize("kind", ["access_denied", "signature_locked"])
def test_a_signing_failure_page_is_in_the_residents_language(app, stub, lang, kind):
    client = signing_client(app, stub)
    client.get(f"/?lang={lang}")
    stub.fail_with = kind
    page = check_page(sign(client), 400)
    retry = page.find("a", href=f"{HOIKU}/check")
    assert_not_japanese(page.title.get_text(), page.h1.get_text(), retry.get_text())
    if kind == "access_denied":
        assert_not_japanese(page.h1.find_next("p").get_text())


def test_a_signature_with_someone_elses_card_is_refused(app, stub):
    client = signing_client(app, stub)
    stub.signer = "spouse"
    page = check_page(sign(client), 400)
    assert page.h1.get_text() == "ログインした方とは別のカードで署名されました"
    assert draft_of(app, "hoiku-riyou", "sub-parent").signature is None


def test_answers_changed_while_signing_are_not_submitted(app, stub):
    client = signing_client(app, stub)
    response = post(client, f"{HOIKU}/check", {"declaration": "yes"})
    assert response.headers["Location"].endswith("/sign/callback")
    with app.app_context():
        row = db.session.get(Submission, draft_of(app, "hoiku-riyou", "sub-parent").id)
        row.answers = {**row.answers, "nursery_1": "taito"}
        db.session.commit()
    page = check_page(client.get("/sign/callback"), 400)
    assert page.h1.get_text() == "署名の間に申請内容が変わりました"
    assert service.is_draft(draft_of(app, "hoiku-riyou", "sub-parent"))


def test_a_draft_started_before_logging_in_becomes_the_residents(app, client, stub):
    page = client.get("/procedures/juminhyo-copy")
    client.post("/procedures/juminhyo-copy/start", data={"csrf_token": csrf_token(page.text)})
    login(client, "adult")
    client.get("/procedures/juminhyo-copy/apply/applicant")
    draft = draft_of(app, "juminhyo-copy", "sub-adult")
    assert draft is not None and draft.applicant_person_id == "adult"
    assert "入力中" in check_page(client.get("/my/applications")).main.get_text()


def expire_on_a_step(app, persona_id: str):
    """Sign in, save the first step of 住民票, then post the second after the login ran out."""
    client = login(app.test_client(), persona_id)
    begin(client, JUMINHYO)
    assert post(client, f"{JUMINHYO}/apply/applicant", APPLICANT).status_code == 302
    token = csrf_token(client.get(TARGET).text)
    clock.set_override(clock.now() + IDLE_TIMEOUT + dt.timedelta(minutes=1))
    response = client.post(
        TARGET, data={"csrf_token": token, "scope": "household-some", "members": "大原 花子"}
    )
    clock.set_override(None)
    return client, response


def test_a_step_posted_after_the_login_ran_out_is_given_back_after_logging_in(app, stub):
    client, response = expire_on_a_step(app, "adult")
    page = check_page(response, 401)
    assert page.h1.get_text() == "ログインの有効期限が切れました"
    assert page.find("a", string="もう一度ログインして続ける")["href"] == f"/login?next={TARGET}"
    login(client, "adult")
    page = check_page(client.get(TARGET))
    assert "入力していた内容を戻しました" in page.find(role="status").get_text()
    assert page.find("input", attrs={"name": "scope", "value": "household-some"}).has_attr(
        "checked"
    )
    assert page.find("textarea", attrs={"name": "members"}).get_text() == "大原 花子"
    # Given back once: the next visit shows the saved answers only.
    assert "入力していた内容を戻しました" not in client.get(TARGET).get_data(as_text=True)


def test_what_was_posted_is_not_given_to_someone_else(app, stub):
    client, response = expire_on_a_step(app, "adult")
    assert response.status_code == 401
    login(client, "spouse")
    begin(client, JUMINHYO)
    assert post(client, f"{JUMINHYO}/apply/applicant", APPLICANT).status_code == 302
    text = client.get(TARGET).get_data(as_text=True)
    assert "入力していた内容を戻しました" not in text and "大原 花子" not in text


def test_logging_in_to_apply_starts_the_application_at_once(app, client, stub):
    """ログインして申請を始める: back from the card, the first step (not the procedure page and
    申請を始める again); a plain login from the same page only comes back to it."""
    response = post(client, "/login", {"next": HOIKU, "then": "begin"})
    assert response.status_code == 302
    back = client.get(response.headers["Location"].replace("?", "?as=parent&", 1))
    assert back.headers["Location"] == HOIKU
    response = client.get(HOIKU)
    assert response.status_code == 302
    assert response.headers["Location"] == f"{HOIKU}/apply/guardian"
    page = check_page(client.get(response.headers["Location"]))
    assert page.h1.get_text(strip=True) == "申請する保護者"
    assert check_page(client.get(HOIKU)).find("h1")  # the intent is used once

    other = app.test_client()
    response = post(other, "/login", {"next": HOIKU})  # without then=begin
    other.get(response.headers["Location"].replace("?", "?as=parent&", 1))
    assert other.get(HOIKU).status_code == 200


KOSHIN = "/procedures/kaigo-koshin"


def test_the_own_application_button_starts_without_the_who_page(app, client, stub):
    """ログインしてご本人の申請を始める (then=begin-self): back from the card, the first step of a
    procedure that may be filed for others, as the resident's own application, prefilled."""
    page = check_page(client.get(KOSHIN))
    assert page.find("button", string="ログインしてご本人の申請を始める")["value"] == "begin-self"
    assert page.find("button", string="ログインして代理で申請する")["value"] == "begin"
    post(client, "/login", {"next": KOSHIN, "then": "begin-self"})
    login(client, "elderly")
    response = client.get(KOSHIN)
    assert response.headers["Location"] == f"{KOSHIN}/apply/insured"
    draft = draft_of(app, "kaigo-koshin", "sub-elderly")
    assert draft.acting_for == {"relationship": "self"}
    assert draft.answers["insured"]["name"] == "中村 キヨ"

    other = app.test_client()
    post(other, "/login", {"next": KOSHIN, "then": "begin"})
    login(other, "family")  # another resident: no draft of this procedure yet
    assert other.get(KOSHIN).headers["Location"] == f"{KOSHIN}/who"


def test_the_card_gives_the_my_number_only_for_a_procedure_that_asks_it(app, client, stub):
    """The login that starts a procedure with a field for the resident's own 個人番号 asks the
    card for it; the session keeps it encrypted, the draft's field is filled (encrypted), and
    the page shows it masked. Another procedure's login does not ask for it."""
    post(client, "/login", {"next": KOSHIN, "then": "begin-self"})
    assert stub.asked_my_number is True
    login(client, "elderly")
    with client.session_transaction() as web_session:
        kept = web_session["user"]["my_number"]
    assert kept.startswith("v1:") and "100000000064" not in str(web_session["user"])
    page = client.get(client.get(KOSHIN).headers["Location"])
    text = check_page(page).get_text()
    assert "入力済みです（●●●● ●●●● 0064）" in text
    assert "マイナンバーカードの情報から入力しました" in text
    assert "100000000064" not in page.text
    draft = draft_of(app, "kaigo-koshin", "sub-elderly")
    assert draft.prefilled["my_number"] == "card"
    with app.app_context():
        key = app.extensions["submission_services"].my_number_key
        from portal import japanese

        assert japanese.decrypt_sensitive(draft.answers["my_number"], key) == "100000000064"

    other = app.test_client()
    post(other, "/login", {"next": HOIKU, "then": "begin"})
    assert stub.asked_my_number is False
    post(other, "/login", {"next": KOSHIN})  # a plain login from the page: not asked either
    assert stub.asked_my_number is False
