"""書かない窓口 at the HTTP level, with the stub identity provider: a clerk reads a visitor's card
(the visitor owns the draft, the clerk is recorded as who entered it, nothing of the visitor goes
into the staff session), fills the steps with the engine, and the visitor confirms on a second
screen through a link that opens once and expires after 15 minutes — or on a signed printout.
Who may do what (404 for everyone else), CSRF, errors that keep what was typed, signatures made
on the visitor's screen, the audit entries, and the application in the visitor's own list."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from portal import audit, clock
from portal.counter import confirmation
from portal.db import db
from portal.demo import example_answers
from portal.identity.models import WebSession
from portal.mock_jpki.ca import MockCA
from portal.staff import counter as counter_views
from portal.submissions import service
from portal.submissions.models import Submission
from tests.conftest import check_page, csrf_token
from tests.factories import member_id, staff_members
from tests.factories import staff_sign_in as sign_in
from tests.web.test_identity_features import StubProvider

KOSEKI = "koseki-shomei"  # 戸籍証明書等の交付請求: 市民課, identity level "login", a declaration
TENSHUTSU = "tenshutsu"  # 転出届: 市民課, identity level "signature"
VISITOR = "family"  # 佐藤 由美 (her 本籍 may well be in いすみ市; she lives in 茂原市)
MEMBERS = {
    "counter-a": [("clerk", "shimin")],
    "counter-b": [("clerk", "shimin")],
    "counter-kosodate": [("clerk", "kosodate")],
    "reviewer-shimin": [("reviewer", "shimin")],
}


@pytest.fixture
def stub(app, tmp_path):
    provider = StubProvider(MockCA(tmp_path / "ca"))
    app.extensions["identity_provider"] = provider
    return provider


@pytest.fixture
def staff(app):
    """login_id -> (TOTP secret, member id) of MEMBERS."""
    secrets = staff_members(app, MEMBERS)
    return {login_id: (secret, member_id(app, login_id)) for login_id, secret in secrets.items()}


def clerk(app, staff, login_id="counter-a"):
    return sign_in(app.test_client(), login_id, staff[login_id][0])


def post(client, url, data, page_url=None):
    token = csrf_token(client.get(page_url or url).text)
    return client.post(url, data={**data, "csrf_token": token})


def read_card(client, procedure_id=KOSEKI, persona=VISITOR) -> str:
    """Start at the counter and read the visitor's card; the new draft's public id."""
    response = post(client, "/staff/counter/start", {"procedure": procedure_id}, "/staff/counter")
    assert response.headers["Location"] == "http://localhost/staff/counter/card"
    response = client.get(f"/staff/counter/card?as={persona}")
    assert response.status_code == 302, response.text
    match = re.fullmatch(
        r"/staff/counter/([0-9a-f]{32})/apply/[a-z-]+", response.headers["Location"]
    )
    assert match, response.headers["Location"]
    return match.group(1)


def row(app, public_id) -> Submission:
    with app.app_context():
        return db.session.scalar(select(Submission).where(Submission.public_id == public_id))


def complete(app, public_id) -> None:
    """Every step answered with the catalog's examples (as if the clerk had typed them)."""
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
        procedure = service.procedure_of(submission)
        examples = example_answers(app, db.session, submission, procedure, clock.today_local())
        # What the card and the records filled in stays (the visitor's name and address).
        prefilled = {name: submission.answers[name] for name in submission.prefilled}
        submission.answers = {**examples, **prefilled}
        submission.steps_done = [s.id for s in procedure.steps]
        db.session.commit()


def issue_link(client, public_id) -> str:
    check = f"/staff/counter/{public_id}/check"
    response = post(client, f"/staff/counter/{public_id}/link", {}, check)
    assert response.headers["Location"] == f"{check}#confirm"
    page = check_page(client.get(check))
    link = page.find("a", string=re.compile("お客様用の確認画面を開く"))
    assert page.find("svg", attrs={"aria-label": "お客様用の確認画面を開くQRコード"})
    return link["href"].removeprefix("http://localhost")


def open_on_screen(app, link):
    screen = app.test_client()
    response = screen.get(link)
    assert response.status_code == 302 and response.headers["Location"] == "/counter/confirm"
    return screen


def audit_entries(app, public_id):
    with app.app_context():
        return list(
            db.session.scalars(
                select(audit.AuditEntry)
                .where(audit.AuditEntry.target == f"submission:{public_id}")
                .order_by(audit.AuditEntry.id)
            )
        )


def test_the_start_page_offers_the_clerks_online_procedures(app, staff, stub):
    page = check_page(clerk(app, staff).get("/staff/counter"))
    options = {o["value"] for o in page.select("#f-procedure option") if o["value"]}
    assert KOSEKI in options and TENSHUTSU in options
    assert "juminhyo-copy" not in options  # no card is read for it (identity level none)
    assert "shussei-todoke" not in options  # filed at the counter only, on paper
    assert "hoiku-riyou" not in options  # 子育て支援課
    assert page.find("button", string="カードを読み取る")


def test_only_clerks_reach_the_counter_pages(app, staff, stub):
    assert app.test_client().get("/staff/counter").status_code == 404
    resident = app.test_client()
    resident.get(f"/login/callback?as={VISITOR}")
    assert resident.get("/staff/counter").status_code == 404
    reviewer = clerk(app, staff, "reviewer-shimin")
    assert reviewer.get("/staff/counter").status_code == 404
    token = csrf_token(reviewer.get("/staff/").text)
    response = reviewer.post(
        "/staff/counter/start", data={"procedure": KOSEKI, "csrf_token": token}
    )
    assert response.status_code == 404
    # A procedure of another department cannot be started by posting its id.
    kosodate = clerk(app, staff, "counter-kosodate")
    page = check_page(
        post(kosodate, "/staff/counter/start", {"procedure": KOSEKI}, "/staff/counter"), 400
    )
    assert page.find("a", string="手続を選んでください")


def test_reading_the_card_makes_the_visitor_the_owner_and_the_clerk_who_entered_it(
    app, staff, stub
):
    client = clerk(app, staff)
    public_id = read_card(client)
    draft = row(app, public_id)
    assert draft.owner_sub == f"sub-{VISITOR}"
    assert draft.applicant_person_id == VISITOR  # found in the records by the card's items
    assert draft.entered_by == f"staff:{staff['counter-a'][1]}"
    assert draft.prefilled["requester"] == "card"
    assert draft.answers["requester"]["name"] == "佐藤 由美"
    assert service.is_draft(draft) and draft.reference is None
    # Signing in on their own phone, the visitor does not take the clerk's draft over.
    with app.app_context():
        assert service.owned_draft(db.session, f"sub-{VISITOR}", KOSEKI) is None
    # Nothing of the visitor went into the staff session: not as a login, not by name.
    with app.app_context():
        data = [s.data for s in db.session.scalars(select(WebSession)) if s.data.get("staff")]
    assert len(data) == 1 and "user" not in data[0] and "佐藤" not in str(data[0])
    (entry,) = audit_entries(app, public_id)
    assert (entry.actor, entry.action, entry.department, entry.reason) == (
        f"staff:{staff['counter-a'][1]}",
        "change",
        "shimin",
        counter_views.START_REASON,
    )
    page = check_page(client.get(f"/staff/counter/{public_id}/apply/requester"))
    assert "佐藤 由美（サトウ ユミ）" in page.main.get_text()  # from the card, not to be changed
    assert page.find("input", attrs={"name": "requester.name"}) is None
    assert page.find(id="f-requester_address-postal_code")["value"] == "297-0024"
    # On the counter page, among the member's visits.
    listing = check_page(client.get("/staff/counter")).main.get_text()
    assert "戸籍証明書等の交付請求" in listing and "佐藤 由美" in listing


def test_a_failed_card_read_says_what_to_do_and_starts_nothing(app, staff, stub, monkeypatch):
    from portal.identity.providers import ProviderError

    client = clerk(app, staff)
    post(client, "/staff/counter/start", {"procedure": KOSEKI}, "/staff/counter")

    def locked():
        raise ProviderError("card_locked")

    monkeypatch.setattr(stub, "finish_login", locked)
    page = check_page(client.get("/staff/counter/card"), 400)
    assert page.h1.get_text() == "カードがロックされています"
    retry = page.find("a", string="窓口での申請受付に戻る")["href"]
    assert retry == f"/staff/counter?procedure={KOSEKI}"
    assert check_page(client.get(retry)).find("option", selected=True)["value"] == KOSEKI
    # The return without a pending start (reloaded, or another tab): nothing starts either.
    page = check_page(client.get(f"/staff/counter/card?as={VISITOR}"), 400)
    assert page.h1.get_text() == "カードの読み取りの有効期限が切れました"
    with app.app_context():
        assert db.session.scalar(select(Submission)) is None


def test_other_clerks_and_departments_get_404_on_a_counter_draft(app, staff, stub):
    client = clerk(app, staff)
    public_id = read_card(client)
    complete(app, public_id)
    base = f"/staff/counter/{public_id}"
    for login_id in ("counter-b", "counter-kosodate", "reviewer-shimin"):
        other = clerk(app, staff, login_id)
        for url in (f"{base}/apply/requester", f"{base}/check", f"{base}/print"):
            assert other.get(url).status_code == 404, (login_id, url)
        token = csrf_token(other.get("/staff/").text)
        for url in (f"{base}/link", f"{base}/printed", f"{base}/apply/requester"):
            response = other.post(url, data={"csrf_token": token, "printed": "yes"})
            assert response.status_code == 404, (login_id, url)
    assert service.is_draft(row(app, public_id))
    # And a resident's own draft is no counter draft, even for a clerk of its department.
    resident = app.test_client()
    resident.get("/login/callback?as=adult")
    resident.post(
        f"/procedures/{KOSEKI}/start",
        data={"csrf_token": csrf_token(resident.get(f"/procedures/{KOSEKI}").text)},
    )
    with app.app_context():
        own = db.session.scalar(select(Submission).where(Submission.owner_sub == "sub-adult"))
    assert client.get(f"/staff/counter/{own.public_id}/check").status_code == 404


def test_steps_keep_what_was_typed_when_there_are_errors(app, staff, stub):
    client = clerk(app, staff)
    public_id = read_card(client)
    url = f"/staff/counter/{public_id}/apply/requester"
    response = post(
        client,
        url,
        {
            "requester_address.postal_code": "2970024",
            "requester_address.prefecture": "千葉県",
            "requester_address.city": "茂原市",
            "requester_address.town": "八千代",
            "requester_address.block": "",
            "phone": "0475-22-1234",
        },
    )
    page = check_page(response)
    assert page.title.get_text().startswith("エラー：")
    assert page.find(class_="error-summary")
    assert page.find(id="f-phone")["value"] == "0475-22-1234"
    assert page.find(id="f-requester_address-town")["value"] == "八千代"
    response = post(
        client,
        url,
        {
            "requester_address.postal_code": "2970024",
            "requester_address.prefecture": "千葉県",
            "requester_address.city": "茂原市",
            "requester_address.town": "八千代",
            "requester_address.block": "2丁目3番4号",
            "phone": "0475-22-1234",
        },
    )
    assert response.headers["Location"] == f"/staff/counter/{public_id}/apply/register"
    assert row(app, public_id).answers["phone"] == "0475221234"
    # Skipping ahead by URL leads back to the first step still to answer.
    response = client.get(f"/staff/counter/{public_id}/apply/delivery")
    assert response.headers["Location"] == f"/staff/counter/{public_id}/apply/register"
    assert (
        client.get(f"/staff/counter/{public_id}/check")
        .headers["Location"]
        .endswith("/apply/register")
    )


def test_every_counter_form_needs_its_csrf_token(app, staff, stub):
    client = clerk(app, staff)
    public_id = read_card(client)
    complete(app, public_id)
    base = f"/staff/counter/{public_id}"
    for url, data in (
        ("/staff/counter/start", {"procedure": KOSEKI}),
        (f"{base}/apply/requester", {"phone": "0475-22-1234"}),
        (f"{base}/link", {}),
        (f"{base}/printed", {"printed": "yes"}),
    ):
        assert client.post(url, data=data).status_code == 400, url
    screen = open_on_screen(app, issue_link(client, public_id))
    assert screen.post("/counter/confirm", data={"declaration": "yes"}).status_code == 400
    assert service.is_draft(row(app, public_id))


def test_the_visitor_confirms_on_a_second_screen(app, staff, stub):
    client = clerk(app, staff)
    public_id = read_card(client)
    complete(app, public_id)
    check = check_page(client.get(f"/staff/counter/{public_id}/check"))
    assert check.h1.get_text() == "入力内容の確認"
    changes = [a["href"] for a in check.select("a.summary-card__change")]
    assert changes and all(
        href.startswith(f"/staff/counter/{public_id}/apply/") and href.endswith("?return=check")
        for href in changes
    )
    screen = open_on_screen(app, issue_link(client, public_id))
    page = check_page(screen.get("/counter/confirm"))
    assert page.h1.get_text() == "申請内容の確認"
    assert "佐藤 由美" in page.main.get_text() and "大原1234番地" in page.main.get_text()
    assert not page.select("a.summary-card__change")
    assert screen.get("/counter/confirm").headers["Cache-Control"] == "no-store"
    # The clerk's page says the screen has it open.
    staff_page = check_page(client.get(f"/staff/counter/{public_id}/check")).main.get_text()
    assert "お客様用の画面で開かれました" in staff_page

    # The declaration is required; the page says so and nothing is submitted.
    token = csrf_token(screen.get("/counter/confirm").text)
    version = page.find("input", attrs={"name": "version"})["value"]
    response = screen.post("/counter/confirm", data={"csrf_token": token, "version": version})
    page = check_page(response, 400)
    assert page.find("a", string="申請内容の確認にチェックを入れてください")
    assert service.is_draft(row(app, public_id))

    response = screen.post(
        "/counter/confirm",
        data={"csrf_token": token, "version": version, "declaration": "yes"},
    )
    assert response.headers["Location"] == "/counter/done"
    submitted = row(app, public_id)
    assert submitted.reference and not service.is_draft(submitted)
    assert submitted.owner_sub == f"sub-{VISITOR}"
    assert submitted.entered_by == f"staff:{staff['counter-a'][1]}"
    done = check_page(screen.get("/counter/done"))
    assert submitted.reference in done.find(class_="reference").get_text()
    # Shown once: the next visitor at this screen does not see it.
    assert screen.get("/counter/done").status_code == 404
    assert screen.get("/counter/confirm").status_code == 404

    *_, confirmed = audit_entries(app, public_id)
    assert (confirmed.actor, confirmed.action, confirmed.reason) == (
        f"resident:sub-{VISITOR}",
        "change",
        confirmation.SCREEN_REASON,
    )
    with app.app_context():
        assert audit.verify(db.session).ok
        events = [(e.transition, e.actor) for e in row_events(public_id)]
    assert events == [("submit", "resident")]

    # The clerk's page (reloaded) shows it was confirmed, with the reference.
    page = check_page(client.get(f"/staff/counter/{public_id}/check"))
    assert page.h1.get_text() == "申請済み"
    text = page.main.get_text()
    assert submitted.reference in text and "確認用の画面" in text
    assert client.get(f"/staff/counter/{public_id}/apply/requester").status_code == 302
    # The case page says who entered it and how the visitor confirmed it.
    case = check_page(client.get(f"/staff/submissions/{public_id}")).main.get_text()
    assert "入力した職員：counter-a さん" in case and "ご本人の確認：" in case

    # It is the visitor's own application: in their list when they sign in with the card.
    visitor = app.test_client()
    visitor.get(f"/login/callback?as={VISITOR}")
    mine = check_page(visitor.get("/my/applications")).main.get_text()
    assert f"受付番号 {submitted.reference}" in mine


def row_events(public_id):
    submission = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
    return submission.events


def test_a_confirmation_link_opens_once_and_expires(app, staff, stub):
    client = clerk(app, staff)
    public_id = read_card(client)
    complete(app, public_id)
    link = issue_link(client, public_id)
    screen = open_on_screen(app, link)
    # Opened once: nobody else can open it (a photo of the QR code, a second tab).
    page = check_page(app.test_client().get(link), 404)
    assert page.h1.get_text() == "この確認用の画面は使えません"
    assert check_page(screen.get(link), 404)
    assert screen.get("/counter/confirm").status_code == 200  # the screen that opened it

    # A new link replaces it: the screen holding the old one is shown the way out.
    second = issue_link(client, public_id)
    assert second != link
    assert check_page(screen.get("/counter/confirm"), 404)

    # 15 minutes later, the link no longer opens; the clerk's page says so. (The clerk keeps
    # working meanwhile: a staff login ends after 15 idle minutes.)
    clock.set_override(clock.now() + dt.timedelta(minutes=10))
    client.get("/staff/counter")
    clock.set_override(clock.now() + dt.timedelta(minutes=5, seconds=1))
    assert check_page(app.test_client().get(second), 404)
    page = check_page(client.get(f"/staff/counter/{public_id}/check")).main.get_text()
    assert "有効期限が切れました" in page
    # A link whose expiry was altered is refused too.
    third = issue_link(client, public_id)
    expires, rest = third.removeprefix("/counter/confirm/").split(".", 1)
    forged = f"/counter/confirm/{int(expires) + 3600}.{rest}"
    assert app.test_client().get(forged).status_code == 404
    assert app.test_client().get("/counter/confirm/nonsense").status_code == 404
    assert app.test_client().get("/counter/confirm").status_code == 404
    # An opened screen also stops after 15 minutes.
    screen = open_on_screen(app, third)
    assert screen.get("/counter/confirm").status_code == 200
    clock.set_override(clock.now() + dt.timedelta(minutes=15, seconds=1))
    assert screen.get("/counter/confirm").status_code == 404
    assert service.is_draft(row(app, public_id))


def test_answers_changed_by_the_clerk_are_shown_again_before_applying(app, staff, stub):
    client = clerk(app, staff)
    public_id = read_card(client)
    complete(app, public_id)
    screen = open_on_screen(app, issue_link(client, public_id))
    page = check_page(screen.get("/counter/confirm"))
    version = page.find("input", attrs={"name": "version"})["value"]
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
        submission.answers = {**submission.answers, "hittosha": "佐藤 一郎"}
        db.session.commit()
    response = screen.post(
        "/counter/confirm",
        data={
            "csrf_token": csrf_token(screen.get("/counter/confirm").text),
            "version": version,
            "declaration": "yes",
        },
    )
    assert response.headers["Location"] == "/counter/confirm"
    page = check_page(screen.get("/counter/confirm"))
    assert "職員が申請内容を変更しました" in page.get_text()
    assert "佐藤 一郎" in page.main.get_text()
    assert service.is_draft(row(app, public_id))


def test_a_printout_signed_by_hand_is_recorded_by_the_clerk(app, staff, stub):
    client = clerk(app, staff)
    public_id = read_card(client)
    complete(app, public_id)
    printout = check_page(client.get(f"/staff/counter/{public_id}/print"))
    text = printout.main.get_text()
    assert "署名（ご本人）" in text and "counter-a さん" in text
    assert "佐藤 由美" in text and "大原1234番地" in text and "申請内容の確認と署名" in text
    viewed = audit_entries(app, public_id)[-1]
    assert (viewed.action, viewed.department) == ("view", "shimin")

    check = f"/staff/counter/{public_id}/check"
    page = check_page(post(client, f"/staff/counter/{public_id}/printed", {}, check), 400)
    assert page.find("a", string=counter_views.PRINTED_ERROR)["href"] == "#f-printed"
    assert service.is_draft(row(app, public_id))
    response = post(client, f"/staff/counter/{public_id}/printed", {"printed": "yes"}, check)
    assert response.headers["Location"] == check
    submitted = row(app, public_id)
    assert submitted.reference and submitted.entered_by == f"staff:{staff['counter-a'][1]}"
    page = check_page(client.get(check)).main.get_text()
    assert "申請済み" in page and "印刷した申請書（ご本人の署名）" in page
    last = audit_entries(app, public_id)[-1]
    assert (last.actor, last.reason) == (
        f"staff:{staff['counter-a'][1]}",
        counter_views.PRINTED_REASON,
    )
    with app.app_context():
        assert counter_views.entered_by(submitted).login_id == "counter-a"


def test_a_signature_procedure_is_signed_on_the_visitors_screen(app, staff, stub):
    client = clerk(app, staff)
    public_id = read_card(client, TENSHUTSU)
    complete(app, public_id)
    check = check_page(client.get(f"/staff/counter/{public_id}/check")).main.get_text()
    assert "印刷した申請書では受け付けられません" in check
    response = post(
        client, f"/staff/counter/{public_id}/printed", {"printed": "yes"}, "/staff/counter"
    )
    assert response.status_code == 404  # no submission without the card's signature

    screen = open_on_screen(app, issue_link(client, public_id))
    page = check_page(screen.get("/counter/confirm"))
    assert page.find("button", string="署名して申請する")
    data = {
        "csrf_token": csrf_token(screen.get("/counter/confirm").text),
        "version": page.find("input", attrs={"name": "version"})["value"],
        "declaration": "yes",
    }
    # Signed with another card: refused, nothing submitted, the way back offered.
    stub.signer = "adult"
    response = screen.post("/counter/confirm", data=data)
    assert response.headers["Location"] == "http://localhost/counter/sign/callback"
    page = check_page(screen.get("/counter/sign/callback"), 400)
    assert page.h1.get_text() == "窓口で読み取ったカードとは別のカードで署名されました"
    assert page.find("a", string="申請内容の確認に戻る")["href"] == "/counter/confirm"
    assert row(app, public_id).signature is None and service.is_draft(row(app, public_id))

    stub.signer = VISITOR
    screen.post("/counter/confirm", data=data)
    response = screen.get("/counter/sign/callback")
    assert response.headers["Location"] == "/counter/done"
    submitted = row(app, public_id)
    assert submitted.reference and submitted.signature["certificate"].startswith("-----BEGIN")
    assert submitted.entered_by == f"staff:{staff['counter-a'][1]}"
    page = check_page(client.get(f"/staff/counter/{public_id}/check")).main.get_text()
    assert "マイナンバーカードによる電子署名" in page
    # The signature verifies on the visitor's status page like any other.
    visitor = app.test_client()
    visitor.get(f"/login/callback?as={VISITOR}")
    token = service.status_token(app.config["STATUS_LINK_KEY"], submitted)
    assert "署名検証: 有効" in check_page(visitor.get(f"/status/{token}")).get_text()


def test_the_sign_callback_without_a_signing_under_way_is_refused(app, staff, stub):
    page = check_page(app.test_client().get("/counter/sign/callback"), 400)
    assert page.h1.get_text() == "署名の有効期限が切れました"
