"""A signed-in resident's draft opens only in that resident's login, whatever link or code points
at it (decision 0045); an anonymous draft's resume code stays a bearer code, and its page says so.

How the ways to reach a draft were found (and how a new one is caught):
- by reading every use of the draft lookups in portal/: `find_by_draft_token` (the session's
  bearer token: every /procedures/<id>/... page through `access.draft_for`, the sign callback,
  the counter screen), `resume_draft` (/resume, GET with ?code= from the QR code, and POST),
  `owned` / `owned_draft` / `take_over_draft` (/my/applications/<public_id>/continue, a login
  that picks up the latest draft), bundles' `owned` (/bundles/<public_id>/...), and the counter's
  handover link (/counter/confirm/<token>: opened once, tested in test_staff_counter.py);
- and, so that a route added later is covered without editing this file, by crawling the URL map:
  every resident-facing rule is requested by an anonymous visitor and by another signed-in
  resident, with every secret we know substituted for its arguments (the resume code, the
  owner's bearer token, the draft's and the bundle's public ids), before and after they tried the
  code on /resume. The owner's answers never appear, the draft is never handed over (its bearer
  token is unchanged) and nothing answers 5xx.
"""

from __future__ import annotations

import itertools
import re

import pytest
from flask import redirect
from sqlalchemy import select

from portal import clock
from portal.bundles import service as bundles
from portal.db import db
from portal.identity.providers import Identity
from portal.submissions.models import Submission
from tests.conftest import check_page, csrf_token

JUMINHYO = "/procedures/juminhyo-copy"
OWNER = "sub-owner"
# A name nobody else in the demo data has: its appearance on a page means the draft was shown.
MARKER = "鷹羽 織江"
APPLICANT = {
    "applicant_name": MARKER,
    "applicant_kana": "タカハ オリエ",
    "phone": "09012345678",
    "relationship": "self",
}
UNKNOWN_CODE = "ABCD-EFGH-JKMN"
ERROR = "再開コードが正しくないか、有効期限が切れています"


class OwnerProvider:
    """An identity provider that logs in at once as the draft's owner."""

    name = "stub"

    def begin_login(self, return_url: str):
        return redirect(return_url)

    def finish_login(self) -> Identity:
        return Identity("jpki", OWNER, "鷹羽 織江", "", "", "")


def signed_in(app, sub: str):
    client = app.test_client()
    with client.session_transaction() as web_session:
        web_session["user"] = {"sub": sub, "name": "テスト", "provider": "jpki"}
    return client


def post(client, url: str, data: dict, **kwargs):
    token = csrf_token(client.get(url).text)
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def owned_draft_with_code(app) -> tuple[str, str, str]:
    """A draft the signed-in owner started and answered (with MARKER), and its resume code:
    (public id, resume code, the owner's bearer token)."""
    owner = signed_in(app, OWNER)
    owner.post(f"{JUMINHYO}/start", data={"csrf_token": csrf_token(owner.get(JUMINHYO).text)})
    response = post(owner, f"{JUMINHYO}/apply/applicant", APPLICANT)
    assert response.status_code in (302, 303), response.status_code
    page = post(owner, f"{JUMINHYO}/save", {})
    code = re.search(r'id="resume-code">([0-9A-Z-]+)<', page.text).group(1)
    assert "ログインしたご本人だけが使えます" in page.text
    with owner.session_transaction() as web_session:
        bearer = web_session["drafts"]["juminhyo-copy"]
    with app.app_context():
        row = db.session.scalar(select(Submission).where(Submission.owner_sub == OWNER))
        assert row.answers["applicant_name"] == MARKER
        return row.public_id, code, bearer


def draft_state(app, public_id: str) -> tuple[str | None, str]:
    with app.app_context():
        row = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
        return row.owner_sub, row.draft_token_hash


def normalized(html: str, *values: str) -> str:
    """A page without what differs by request only: the CSRF token and the code typed."""
    html = re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value=""', html)
    for value in values:
        html = html.replace(value, "CODE")
    return html


def test_a_signed_in_residents_code_answers_others_like_an_unknown_code(app):
    public_id, code, _bearer = owned_draft_with_code(app)
    before = draft_state(app, public_id)
    for visitor in (app.test_client(), signed_in(app, "sub-stranger")):
        owned = post(visitor, "/resume", {"code": code})
        unknown = post(visitor, "/resume", {"code": UNKNOWN_CODE})
        assert owned.status_code == unknown.status_code == 200
        assert ERROR in owned.text
        assert MARKER not in owned.text
        assert normalized(owned.text, code) == normalized(unknown.text, UNKNOWN_CODE)
        assert sorted(owned.headers.keys()) == sorted(unknown.headers.keys())
        # Arriving from the QR code (GET with the code filled in) shows the form only.
        assert MARKER not in visitor.get(f"/resume?code={code}").text
        # The draft's own pages still show nothing to this browser.
        response = visitor.get(f"{JUMINHYO}/apply/applicant")
        assert response.status_code == 302 and MARKER not in response.text
        # Continuing from "my applications" with the draft's public id: as for an unknown id.
        token = csrf_token(visitor.get("/resume").text)
        mine = visitor.post(f"/my/applications/{public_id}/continue", data={"csrf_token": token})
        unknown_id = "0" * len(public_id)
        other = visitor.post(f"/my/applications/{unknown_id}/continue", data={"csrf_token": token})
        assert mine.status_code == other.status_code == 404
        assert mine.text.replace(public_id, unknown_id) == other.text
    assert draft_state(app, public_id) == before  # never handed over to another browser


def test_the_owner_signed_out_is_sent_to_login_and_returns_to_the_draft(app):
    public_id, code, _bearer = owned_draft_with_code(app)
    app.extensions["identity_provider"] = OwnerProvider()
    client = app.test_client()  # the owner on another device, not signed in
    page = check_page(post(client, "/resume", {"code": code}))
    login = page.find("a", string="ログインして再開する")
    assert login["href"] == "/login?next=/resume"
    response = post(client, "/login", {"next": "/resume"})
    assert response.headers["Location"].endswith("/login/callback")
    response = client.get("/login/callback")
    assert response.headers["Location"] == "/resume"
    response = client.get("/resume")
    assert response.headers["Location"] == f"{JUMINHYO}/apply/target"
    assert MARKER in client.get(f"{JUMINHYO}/apply/applicant").text
    assert draft_state(app, public_id)[0] == OWNER


def test_the_owner_signed_in_opens_their_code(app):
    _public_id, code, _bearer = owned_draft_with_code(app)
    owner = signed_in(app, OWNER)
    response = post(owner, "/resume", {"code": code})
    assert response.headers["Location"] == f"{JUMINHYO}/apply/target"
    assert MARKER in owner.get(f"{JUMINHYO}/apply/applicant").text


def test_a_token_left_in_a_browser_opens_nothing_once_someone_else_or_nobody_is_signed_in(app):
    public_id, _code, bearer = owned_draft_with_code(app)
    for sub in (None, "sub-stranger"):
        client = signed_in(app, sub) if sub else app.test_client()
        with client.session_transaction() as web_session:
            web_session["drafts"] = {"juminhyo-copy": bearer}
        response = client.get(f"{JUMINHYO}/apply/applicant")
        assert response.status_code == 302 and MARKER not in response.text
        assert MARKER not in client.get(JUMINHYO).text
        with client.session_transaction() as web_session:
            assert "juminhyo-copy" not in web_session.get("drafts", {})  # forgotten
    assert draft_state(app, public_id)[0] == OWNER


def test_an_anonymous_code_is_a_bearer_code_and_its_page_says_so(app):
    client = app.test_client()
    client.post(f"{JUMINHYO}/start", data={"csrf_token": csrf_token(client.get(JUMINHYO).text)})
    post(client, f"{JUMINHYO}/apply/applicant", APPLICANT)
    page = check_page(post(client, f"{JUMINHYO}/save", {}))
    assert "このコードを知っている人は、だれでも入力した内容を見て" in page.get_text()
    code = page.find(id="resume-code").get_text()
    response = post(app.test_client(), "/resume", {"code": code})
    assert response.headers["Location"] == f"{JUMINHYO}/apply/target"


# --- The URL-map crawl ------------------------------------------------------------------------

# Not resident pages: the mocks of other services, staff pages (their own sign-in), the login
# flow itself (tested above), the development mail page and the machine webhook.
SKIPPED_BLUEPRINTS = ("static", "staff", "mock_jpki", "mock_pay", "identity", "dev_mail")
SKIPPED_ENDPOINTS = {"payments.webhook"}


def _candidates(argument: str, secrets: dict[str, list[str]]) -> list[str]:
    if argument in secrets:
        return secrets[argument]
    return secrets["token"]  # any other argument: every secret we hold


def crawl(app, client, secrets: dict[str, list[str]]):
    """Every resident-facing rule, GET and POST, with the secrets substituted."""
    token = csrf_token(client.get("/resume").text)
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0].startswith(SKIPPED_BLUEPRINTS):
            continue
        if rule.endpoint in SKIPPED_ENDPOINTS or "int:" in rule.rule:
            continue
        names = sorted(rule.arguments)
        for values in itertools.product(*(_candidates(n, secrets) for n in names)):
            path = rule.build(dict(zip(names, values, strict=True)))[1]
            for method in sorted(rule.methods & {"GET", "POST"}):
                if method == "GET":
                    response = client.get(path)
                else:
                    data = {"csrf_token": token, "code": secrets["code"][0]}
                    response = client.post(path, data=data)
                yield method, path, response


def test_no_route_shows_or_hands_over_a_signed_in_residents_draft(app):
    public_id, code, bearer = owned_draft_with_code(app)
    with app.app_context():
        catalog = app.extensions["catalog"]
        bundle, members = bundles.start(
            db.session,
            catalog,
            next(e for e in catalog.life_events if e.id == "moving"),
            {},
            ["juminhyo-copy"],
            clock.now(),
            owner_sub=OWNER,
            person_id=None,
        )
        members[0].answers = {"applicant_name": MARKER}
        db.session.commit()
        bundle_id, member_id = bundle.public_id, members[0].public_id
    before = {pid: draft_state(app, pid) for pid in (public_id, member_id)}
    secrets = {
        "code": [code],
        "token": [code, bearer],
        "upload_token": [bearer],
        "public_id": [public_id, bundle_id],
        "procedure_id": ["juminhyo-copy"],
        "step_id": ["applicant"],
    }
    requests = 0
    for visitor in (app.test_client(), signed_in(app, "sub-stranger")):
        for _attempt in range(2):  # before and after trying the code on /resume
            for method, path, response in crawl(app, visitor, secrets):
                requests += 1
                assert response.status_code < 500, (method, path, response.status_code)
                assert MARKER not in response.get_data(as_text=True), (method, path)
            post(visitor, "/resume", {"code": code})
    assert requests > 100  # the crawl reached the routes
    assert {pid: draft_state(app, pid) for pid in (public_id, member_id)} == before


@pytest.fixture(autouse=True)
def _generous_limits(app):
    """The crawl makes hundreds of requests from one address (the limits are read per request)."""
    for name, value in list(app.config.items()):
        if name.startswith("RATELIMIT_") and isinstance(value, str) and " per " in value:
            app.config[name] = "100000 per minute"
