"""The machinery of the hostile-input sweeps (tests/web/test_hostile_input.py): a prepared world,
every endpoint of `app.url_map` with real URL arguments, the actor allowed there, a valid CSRF
token and the names of the fields its forms really have, so that hostile values land where a
person's typing would.

The world is made through the portal's own pages and factories: a signed-in resident (山本 結衣,
through the stub identity provider) with a live draft, a life-event bundle and an appointment; a
submitted application with its status link and a payment through an in-process provider; a
payment at the mock payment service; a staff administrator of both departments with a counter
draft. Then each actor's pages are crawled (links and GET forms, never a POST): every concrete URL
seen is matched against the URL map, so an endpoint's arguments come from a page that links to it
and a new route is swept as soon as some page links to it. POST endpoints get their field names
from the HTML forms whose action they are (machine endpoints, which no page posts to, get theirs
from MACHINE_FIELDS). Each sweep then sends one request per (endpoint, hostile value).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from bs4 import BeautifulSoup
from flask import Flask
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from portal import clock
from portal.mock_jpki.ca import MockCA
from portal.staff.models import ROLES
from tests.conftest import csrf_token
from tests.factories import PASSWORD, staff_members, staff_sign_in, submitted
from tests.payment_fakes import FakeProvider

TOKYO = dt.timezone(dt.timedelta(hours=9))
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=TOKYO)  # a Monday

# Where a crawl starts, per actor.
SEEDS = {
    "resident": [
        "/",
        "/procedures/juminhyo-copy",
        "/my/applications",
        "/appointments/",
        "/life-events/",
        "/resume",
        "/privacy",
        "/accessibility",
        "/api/v1/procedures",
        "/dev/mail",
        "/mock-pay/store",
        "/login",
        "/api/v1/openapi.json",
        "/api/v1/procedures/juminhyo-copy",
        "/mock-jpki/.well-known/openid-configuration",
        "/mock-jpki/jwks",
        "/mock-jpki/ca/root.pem",
        "/mock-jpki/ca/crl.pem",
        "/mock-jpki/authorize",
    ],
    "staff": ["/staff/", "/staff/login", "/staff/kiosks", "/staff/helpers", "/staff/kiosk-calls"],
    # A registered helper (their own card: 小川 家族's, "family") in a live assisted session with
    # the resident (山本 結衣, "mover"), in the helper's turn. Only the helper's own pages are
    # crawled: the procedure pages are the resident actor's.
    "helper": [
        "/assist/",
        "/assist/resident?next=/procedures/juminhyo-copy",
        "/assist/give-back?next=/procedures/juminhyo-copy",
        "/assist/hand-over",
        "/assist/welcome",
    ],
    # A registered terminal in a visit, a resident signed in with their card at it.
    "kiosk": [
        "/kiosk/",
        "/kiosk/procedures",
        "/kiosk/handoff",
        "/kiosk/time-left",
        "/kiosk/end",
        "/kiosk/checkin",
        "/kiosk/checkin/slip",
        "/kiosk/print.css",
        "/kiosk/help",
        "/kiosk/certificates",
        "/procedures/juminhyo-copy",
    ],
}
# Machine endpoints: no page posts to them, so their fields are named here.
MACHINE_FIELDS = {
    "mock_pay.api_create_payment": ["amount", "currency", "reference", "description", "return_url"],
    "mock_pay.api_refund": ["amount", "reason"],
    "mock_jpki.token": ["grant_type", "code", "redirect_uri", "client_id", "client_secret"],
    "mock_jpki.create_sign_transaction": ["client_id", "documents", "return_url"],
    "mock_jpki.authorize": ["client_id", "redirect_uri", "state", "nonce", "pin"],
    "mock_jpki.userinfo": ["access_token"],
    "payments.webhook": ["id", "type", "data"],
    "session_timeout.extend": ["next"],
    "submissions.postal_lookup": ["postal_code"],  # the step pages' script posts to it
    "staff_session_timeout.extend": ["next"],
}
# Endpoints that end a session or a world object: swept last, so the others see the world whole.
LAST = {
    "identity.logout",
    "staff.logout",
    "staff.sign_out_everywhere",
    "appointments.cancel",
    "submissions.withdraw",
    "kiosk.end",  # ends the visit
    "assisted.start",  # drops the resident of the helper's session
    "assisted.end",  # ends the helper's session
    "assisted.decline",  # drops the resident
    "assisted.sign_out",  # the helper's own sign-out
    "assisted.practice_start",  # the helper's browser leaves the session for a class
    "assisted.practice_join",  # the browser joins the class (its login goes)
    "assisted.practice_end",  # ends the class
    "staff.revoke_kiosk",  # the terminal is an ordinary browser again
}
# The actors, and a page of each that hands out a CSRF token while the actor is signed in.
TOKEN_PAGES = {
    "resident": "/procedures/juminhyo-copy",
    "staff": "/staff/inbox",
    "staff-visitor": "/staff/login",  # not signed in: the password step
    "staff-half": "/staff/login/code",  # past the password step of another member
    "kiosk": "/kiosk/procedures",  # the terminal, in a visit
    "helper": "/assist/",  # signed in or not, the helper's page has a form
}
# Inputs a person types into (the rest are picked or hidden).
TYPED = {"text", "email", "tel", "date", "number", "password", "search", "url", "month"}
ACTORS = {
    "staff.login": "staff-visitor",
    "staff.code": "staff-half",
    # Revoking a consent later is the resident's, on their own phone (a consent of their own
    # that no browser is in: the helper actor's session stays whole).
    "assisted.revoke": "resident",
}
HELPER_BLUEPRINT = "assisted."
HELPER_CARD = "family"  # the stub card the helper signs in with
HELPER_SCOPE = "procedure:juminhyo-copy"
KIOSK_BLUEPRINT = "kiosk."  # the terminal's own pages; /continue (kiosk_handoff) is the phone's
COUNTER_PROCEDURE = "koseki-shomei"
API_KEY = {"Authorization": "Bearer mock-pay-api-key"}


@dataclasses.dataclass
class Target:
    """One endpoint of the URL map as a sweep sees it."""

    endpoint: str
    rule: str
    methods: set[str]
    actor: str  # "resident" or "staff"
    url: str | None  # a concrete URL with real arguments (None: no page leads there)
    query: list[str]  # names of query parameters seen on its URLs and GET forms
    fields: list[str]  # names of the fields of the forms that post to it
    chosen: dict[str, str]  # values of its hidden, choice and button fields as a page offers


class World:
    """The prepared world and the actors' clients."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        clock.set_override(NOW)
        self._stub_identity()
        app.extensions["payment_provider"] = FakeProvider()
        self.clients = {actor: app.test_client() for actor in TOKEN_PAGES}
        self.urls: dict[str, dict[str, str]] = {}  # endpoint -> {actor: url}
        self.query: dict[str, set[str]] = {}
        self.forms: dict[str, set[str]] = {}
        self.chosen: dict[str, dict[str, str]] = {}  # endpoint -> values a person picks
        self._tokens: dict[str, str] = {}
        self._signed_in = 0
        self._build()
        self._crawl()

    # -- the world --------------------------------------------------------------------------
    def _stub_identity(self) -> None:
        from tests.web.test_identity_features import StubProvider

        class Stub(StubProvider):
            def finish_login(self):  # an unknown card is a failed login, as at the provider
                from flask import request

                from portal.identity.providers import ProviderError

                if request.args.get("as") not in ("mover", "family"):
                    raise ProviderError("invalid")
                return super().finish_login()

        stub = Stub(MockCA(self.app.instance_path + "/ca"))
        stub.signer = "mover"
        self.app.extensions["identity_provider"] = stub

    def _build(self) -> None:
        from tests.web.test_bundle_pages import CHECKLIST, SCREENING
        from tests.web.test_payment_pages import pay_from_status, status_path

        resident = self.clients["resident"]
        assert resident.get("/login/callback?as=mover").status_code == 302
        # A remembered phone (issue 22): 申請一覧 then shows the form that deletes it.
        with resident.session_transaction() as web_session:
            sub = web_session["user"]["sub"]
        with self.app.app_context():
            from portal import clock
            from portal.db import db
            from portal.submissions import contacts

            contacts.remember(db.session, sub, {"phone": "09012345678"}, clock.now())
            db.session.commit()
        # A live draft of a procedure with fields.
        page = resident.get("/procedures/juminhyo-copy")
        started = resident.post(
            "/procedures/juminhyo-copy/start", data={"csrf_token": csrf_token(page.text)}
        )
        assert started.status_code == 302, started.status_code
        self.seen(started.headers["Location"], "resident")
        # A bundle of the moving life event.
        page = resident.get("/life-events/moving")
        screened = resident.post(
            "/life-events/moving", data={**SCREENING, "csrf_token": csrf_token(page.text)}
        )
        assert screened.headers["Location"] == CHECKLIST
        page = resident.get(CHECKLIST)
        offered = re.findall(r'name="procedure" value="([^"]+)"', page.text)
        begun = resident.post(
            CHECKLIST, data={"csrf_token": csrf_token(page.text), "procedure": offered}
        )
        assert begun.status_code == 303, begun.status_code
        self.seen(begun.headers["Location"], "resident")
        # An appointment.
        day = "/appointments/shimin-main/2026-12-01?service=juminhyo&people=1"
        page = resident.get(day)
        booked = resident.post(
            day,
            data={
                "time": "09:00",
                "name": "山本 結衣",
                "email": "yui@example.jp",
                "phone": "",
                "service": "juminhyo",
                "people": "1",
                "csrf_token": csrf_token(page.text),
            },
        )
        assert booked.status_code == 303, booked.status_code
        self.seen(day, "resident")
        self.seen(booked.headers["Location"], "resident")
        # A submitted application, its status link and a payment.
        procedure = self.app.extensions["catalog"].procedure("juminhyo-copy")
        application = submitted(self.app, "juminhyo-copy", dict(procedure.example_answers))
        self.seen(status_path(self.app, application), "resident")
        paying = pay_from_status(resident, self.app, application)
        paying = pay_from_status(resident, self.app, application)  # the second: our page
        payment_page = paying.headers["Location"]
        status = status_path(self.app, application)
        for path in (
            payment_page,
            payment_page + "/receipt",
            payment_page + "/retry",
            status + "/correct",
            status + "/withdraw",
            status + "/files/no-such-upload",
            "/procedures/juminhyo-copy/done",
            "/procedures/juminhyo-copy/files/no-such-upload",
            "/procedures/kaigo-nintei/who",
            "/sign/callback",
            "/login/callback?as=mover",
            "/payments/webhooks/mock",
            "/counter/confirm",
            "/counter/confirm/no-such-link",
            "/counter/done",
            "/counter/sign/callback",
            "/session/time-left",
            "/healthz",
            "/readyz",
            "/static/css/portal.css",
        ):
            self.seen(path, "resident")
        bundle = "/".join(begun.headers["Location"].split("/")[:3])
        member_step = self.app.extensions["catalog"].procedure("tennyu-yoyaku").steps[-1].id
        for path in (
            "/check",
            "/plan",
            "/files/tennyu-yoyaku/no-such-upload",
            f"/apply/tennyu-yoyaku/{member_step}",
        ):
            self.seen(bundle + path, "resident")
        with self.app.app_context():
            from sqlalchemy import select

            from portal.db import db
            from portal.submissions.models import Submission

            own = db.session.scalar(
                select(Submission.public_id).where(Submission.owner_sub == "sub-mover")
            )
        self.seen(f"/my/applications/{own}", "resident")
        # The postal-code look-up: the step pages' script posts to it, no form does.
        self.seen("/address/postal-code", "resident", ("POST",))
        # A payment at the mock payment service.
        created = resident.post(
            "/mock-pay/api/payments",
            json={
                "amount": 300,
                "currency": "JPY",
                "reference": "R-2026-0001",
                "description": "住民票の写し（1通）",
                "return_url": "http://localhost/",
            },
            headers={**API_KEY, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert created.status_code == 201, created.json
        self.mock_payment = created.json["id"]
        self.seen(f"/mock-pay/3ds/{self.mock_payment}", "resident")
        self.seen(f"/mock-pay/qr/{self.mock_payment}", "resident")
        self.seen(f"/mock-pay/checkout/{self.mock_payment}", "resident")
        self.seen(f"/mock-pay/checkout/{self.mock_payment}/card", "resident")
        self.seen(f"/mock-pay/checkout/{self.mock_payment}/number", "resident")
        self.seen(f"/mock-pay/qr/{self.mock_payment}/app", "resident")
        self.seen(f"/mock-pay/api/payments/{self.mock_payment}", "resident")
        self.seen(f"/mock-pay/api/payments/{self.mock_payment}/refunds", "resident")
        self.seen(f"/mock-pay/checkout/{self.mock_payment}/return", "resident")
        self.seen("/mock-pay/api/payments", "resident", ("POST",))
        for path in ("token", "userinfo", "sign/transactions", "sign/transactions/no-such-one"):
            self.seen(f"/mock-jpki/{path}", "resident")
        # Staff: an administrator of both departments, with a counter draft.
        login_id = "everything"
        roles = [(role, department) for role in ROLES for department in ("shimin", "kosodate")]
        secret = self.staff_secret = staff_members(self.app, {login_id: roles})[login_id]
        staff_members(self.app, {"halfway": [("clerk", "shimin")]})
        self.sign_in("staff-half")
        staff = staff_sign_in(self.clients["staff"], login_id, secret)
        page = staff.get("/staff/counter")
        counter = staff.post(
            "/staff/counter/start",
            data={"procedure": COUNTER_PROCEDURE, "csrf_token": csrf_token(page.text)},
        )
        assert counter.status_code in (302, 303), counter.status_code
        card = staff.get("/staff/counter/card?as=family")
        assert card.status_code == 302, card.status_code
        self.seen(card.headers["Location"], "staff")
        counter_case = card.headers["Location"].split("/")[3]
        for path in (
            "/staff/login/code",
            "/staff/counter/card",
            "/staff/session/time-left",
            "/staff/appointments/closures/1/delete",
            f"/staff/counter/{counter_case}/files/no-such-upload",
            f"/staff/counter/{counter_case}/link",
            f"/staff/counter/{counter_case}/print",
            f"/staff/counter/{counter_case}/printed",
            f"/staff/submissions/{application.public_id}/files/no-such-upload",
            f"/staff/submissions/{application.public_id}/ask",
            f"/staff/submissions/{application.public_id}/reveal",
            "/api/staff/v1/procedures/juminhyo-copy/submissions",
        ):
            self.seen(path, "staff")
        with self.app.app_context():
            from sqlalchemy import select

            from portal.appointments.models import Appointment
            from portal.db import db
            from portal.payments.models import Payment
            from portal.staff import tokens
            from portal.staff.models import StaffMember

            member = db.session.scalar(select(StaffMember).where(StaffMember.login_id == login_id))
            _row, self.api_token = tokens.create_token(
                db.session, member, label="sweep", days=1, now=clock.now()
            )
            appointment = db.session.scalar(select(Appointment.public_id))
            payment = db.session.scalar(select(Payment.public_id))
            db.session.commit()
        self.seen(f"/staff/appointments/{appointment}/status", "staff")
        self.seen(f"/staff/payments/{payment}/refund", "staff")
        self._kiosk(login_id)
        self._helper()

    def _helper(self) -> None:
        """Two helpers registered (one for staff to revoke), the first signed in with their card
        and in a live session with the resident's consent; and a consent of the resident's that
        no browser is in, for the resident to revoke."""
        from portal.assisted import service
        from portal.assisted.models import PracticeClass
        from portal.db import db
        from portal.demo_data.people import load_personas

        card = load_personas()[HELPER_CARD].four_items()
        with self.app.app_context():
            ids = []
            for organisation in ("デジタル推進委員", "市社会福祉協議会"):
                helper = service.register_helper(
                    db.session,
                    name=card["name"],
                    birth_date=dt.date.fromisoformat(card["birthdate"]),
                    organisation=organisation,
                    valid_from=NOW.date() - dt.timedelta(days=30),
                    valid_until=NOW.date() + dt.timedelta(days=365),
                    actor="staff:1",
                    now=clock.now(),
                )
                ids.append(helper.public_id)
            now = clock.now()
            practice = PracticeClass(
                public_id=uuid.uuid4().hex,
                helper_id=helper.id,
                started_at=now,
                expires_at=service.end_of_day(now),
            )
            db.session.add(practice)
            spare = service.consent(
                db.session,
                helper,
                resident_sub="sub-mover",
                scope=service.Scope("procedure", "juminhyo-copy", "住民票の写し"),
                duration="day",
                now=clock.now(),
            )
            db.session.commit()
        # The newest registration is the one a card login finds; the other is for revoking.
        self.seen(f"/staff/helpers/{ids[0]}/revoke", "staff", ("POST",))
        self.seen(f"/assist/consents/{spare.public_id}/end", "resident", ("POST",))
        # Pages of states the helper actor is not in (a consent under way, a class).
        self.seen("/assist/consent", "helper")
        self.seen("/assist/decline", "helper", ("POST",))
        self.seen(f"/assist/practice/join/{practice.public_id}", "helper")
        self.seen("/assist/practice/done/juminhyo-copy", "helper")
        self.seen("/assist/practice", "helper")
        self.seen("/assist/practice/end", "helper", ("POST",))
        self.seen("/assist/practice/start", "helper", ("POST",))
        self.sign_in("helper")

    def _helper_session(self) -> None:
        client = self.clients["helper"]
        assert client.get(f"/login/callback?as={HELPER_CARD}").status_code == 302
        assert client.get("/assist/welcome").headers["Location"] == "/assist/"
        page = client.get("/assist/")
        started = client.post("/assist/start", data={"csrf_token": csrf_token(page.text)})
        assert started.headers["Location"] == "/assist/hand-over", started.status_code
        assert client.get("/login/callback?as=mover").status_code == 302
        page = client.get("/assist/consent")
        consented = client.post(
            "/assist/consent",
            data={"scope": HELPER_SCOPE, "duration": "day", "csrf_token": csrf_token(page.text)},
        )
        assert consented.status_code == 303, consented.status_code
        page = client.get(consented.headers["Location"])
        given = client.post(
            "/assist/give-back",
            data={"next": "/procedures/juminhyo-copy", "csrf_token": csrf_token(page.text)},
        )
        assert given.headers["Location"] == "/procedures/juminhyo-copy", given.status_code

    def _kiosk(self, admin: str) -> None:
        """A terminal registered by the administrator on itself, in a visit, where a resident
        signed in with their card and started 住民票; and the phone's /continue page."""
        terminal = self.clients["kiosk"]
        self._signed_in += 1  # a TOTP code is accepted once: the next one, 30 seconds later
        clock.set_override(NOW + dt.timedelta(seconds=30 * self._signed_in))
        staff_sign_in(terminal, admin, self.staff_secret)
        page = terminal.get("/staff/kiosks")
        registered = terminal.post(
            "/staff/kiosks/register",
            data={"name": "1号機", "place": "本庁舎1階", "csrf_token": csrf_token(page.text)},
        )
        assert registered.headers.get("Location") == "/kiosk/", registered.status_code
        page = terminal.get("/kiosk/")
        begun = terminal.post("/kiosk/visit", data={"csrf_token": csrf_token(page.text)})
        assert begun.headers.get("Location") == "/kiosk/procedures", begun.status_code
        page = terminal.get("/kiosk/procedures")
        called = terminal.post("/kiosk/help", data={"csrf_token": csrf_token(page.text)})
        assert called.headers.get("Location") == "/kiosk/help", called.status_code
        assert terminal.get("/login/callback?as=mover").status_code == 302
        page = terminal.get("/procedures/juminhyo-copy")
        started = terminal.post(
            "/procedures/juminhyo-copy/start", data={"csrf_token": csrf_token(page.text)}
        )
        assert started.status_code == 302, started.status_code
        self.seen(started.headers["Location"], "kiosk")
        with self.app.app_context():
            from sqlalchemy import select

            from portal.db import db
            from portal.submissions.models import Submission

            draft = db.session.scalar(select(Submission.public_id).order_by(Submission.id.desc()))
        self.seen(f"/kiosk/handoff/{draft}", "kiosk", ("POST",))
        # A certificate paid for at the kiosk (the fake provider's checkout is on another site,
        # so the kiosk refuses to go there; the certificate's pages exist all the same).
        page = terminal.get("/kiosk/certificates")
        terminal.post("/kiosk/certificates/juminhyo", data={"csrf_token": csrf_token(page.text)})
        with self.app.app_context():
            from portal.kiosk.models import KioskCertificate

            certificate = db.session.scalar(select(KioskCertificate.public_id))
        self.seen(f"/kiosk/certificates/{certificate}", "kiosk")
        self.seen(f"/kiosk/certificates/{certificate}/paid", "kiosk")
        # Handed over at the counter (a clerk; not paid here, so the counter refuses it).
        self.seen(
            f"/staff/counter/kiosk-certificates/{certificate}/handed-over", "staff", ("POST",)
        )
        self.seen("/continue", "resident")
        with self.app.app_context():
            from portal.kiosk.models import KioskAlert

            call = db.session.scalar(select(KioskAlert.id).order_by(KioskAlert.id.desc()))
        self.seen(f"/staff/kiosk-calls/{call}/answer", "staff", ("POST",))

    # -- crawling ---------------------------------------------------------------------------
    def match(self, url: str, methods=("GET", "POST")) -> tuple[str, dict] | None:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return None
        adapter = self.app.url_map.bind("localhost")
        for method in methods:
            try:
                return adapter.match(parts.path, method=method)
            except (NotFound, MethodNotAllowed, RequestRedirect):
                continue
        return None

    def seen(self, url: str, actor: str, methods=("GET", "POST")) -> str | None:
        matched = self.match(url, methods)
        if matched is None:
            return None
        endpoint, _args = matched
        parts = urlsplit(url)
        self.urls.setdefault(endpoint, {}).setdefault(actor, parts.path + _query(parts.query))
        names = self.query.setdefault(endpoint, set())
        names.update(name for name, _ in parse_qsl(parts.query) if name != "lang")
        return endpoint

    def _crawl(self, per_endpoint: int = 3) -> None:
        for actor, seeds in SEEDS.items():
            client = self.clients[actor]
            queue = list(dict.fromkeys([*seeds, *self._known(actor)]))
            visits: dict[str, int] = {}
            done: set[str] = set()
            while queue:
                url = queue.pop(0)
                endpoint = self.seen(url, actor)
                if url in done or endpoint is None or endpoint in NEVER_CRAWL:
                    continue
                if visits.get(endpoint, 0) >= per_endpoint:
                    continue
                if actor == "helper" and not endpoint.startswith(HELPER_BLUEPRINT):
                    continue  # the helper's own pages only (the rest is the resident's)
                visits[endpoint] = visits.get(endpoint, 0) + 1
                done.add(url)
                response = client.get(url)
                if response.mimetype != "text/html" or response.status_code != 200:
                    continue
                soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
                for link in soup.find_all("a", href=True):
                    href = link["href"]
                    if "lang=" not in href and not href.startswith(("http:", "https:", "#")):
                        queue.append(href.split("#")[0])
                for form in soup.find_all("form"):
                    self._form(form, urlsplit(url).path, actor, queue)

    def _known(self, actor: str) -> list[str]:
        return [urls[actor] for urls in self.urls.values() if actor in urls]

    def _form(self, form, page_path: str, actor: str, queue: list[str]) -> None:
        action = form.get("action") or page_path
        names = {
            tag.get("name")
            for tag in form.find_all(["input", "select", "textarea", "button"])
            if tag.get("name") and tag.get("name") != "csrf_token"
        }
        if (form.get("method") or "get").lower() == "get":
            query = urlencode(
                [(t["name"], t.get("value", "")) for t in form.find_all("input") if t.get("name")]
            )
            queue.append(action + (f"?{query}" if query else ""))
            endpoint = self.seen(action, actor)
            if endpoint:
                self.query.setdefault(endpoint, set()).update(names)
            return
        endpoint = self.seen(action, actor, ("POST",))
        if endpoint:
            self.forms.setdefault(endpoint, set()).update(names)
            chosen = self.chosen.setdefault(endpoint, {})
            for tag in form.find_all(["input", "select", "button"]):
                name, kind = tag.get("name"), tag.get("type", "text")
                if not name or name == "csrf_token" or (tag.name == "input" and kind in TYPED):
                    continue
                if tag.name == "select":
                    option = tag.find("option", selected=True) or tag.find("option")
                    value = option.get("value", "") if option else ""
                else:
                    value = tag.get("value", "")
                if tag.name != "input" or kind not in ("radio", "checkbox") or name not in chosen:
                    chosen.setdefault(name, value)

    # -- the sweep's view of the URL map ----------------------------------------------------
    def targets(self) -> list[Target]:
        found = []
        for rule in self.app.url_map.iter_rules():
            methods = set(rule.methods or ()) & {"GET", "POST"}
            actor = "staff" if rule.endpoint.startswith(("staff", "staff_api")) else "resident"
            if rule.endpoint.startswith(KIOSK_BLUEPRINT):
                actor = "kiosk"
            if rule.endpoint.startswith(HELPER_BLUEPRINT):
                actor = "helper"
            actor = ACTORS.get(rule.endpoint, actor)
            urls = self.urls.get(rule.endpoint, {})
            url = urls.get(actor) or next(iter(urls.values()), None)
            fields = sorted(self.forms.get(rule.endpoint, set()))
            fields = fields or MACHINE_FIELDS.get(rule.endpoint, [])
            found.append(
                Target(
                    rule.endpoint,
                    rule.rule,
                    methods,
                    actor,
                    url,
                    sorted(self.query.get(rule.endpoint, set())),
                    fields,
                    self.chosen.get(rule.endpoint, {}),
                )
            )
        return sorted(found, key=lambda t: (t.endpoint in LAST, t.endpoint, t.rule))

    def sign_in(self, actor: str) -> None:
        """Sign the actor in again after a hostile try ended its session (logout, a failed code)."""
        client = self.clients[actor]
        if actor == "staff":
            # A code is accepted once: the next sign-in happens a step of 30 seconds later.
            self._signed_in += 1
            clock.set_override(NOW + dt.timedelta(seconds=30 * self._signed_in))
            staff_sign_in(client, "everything", self.staff_secret)
        elif actor == "staff-half":
            page = client.get("/staff/login")
            client.post(
                "/staff/login",
                data={
                    "login_id": "halfway",
                    "password": PASSWORD,
                    "csrf_token": csrf_token(page.text),
                },
            )
        elif actor == "resident":
            assert client.get("/login/callback?as=mover").status_code == 302
        elif actor == "helper":
            self._helper_session()
        elif actor == "kiosk":  # a new visit (an endpoint of LAST ended the last one)
            page = client.get("/kiosk/")
            if 'action="/kiosk/visit"' in page.text:
                client.post("/kiosk/visit", data={"csrf_token": csrf_token(page.text)})

    def token(self, actor: str) -> str:
        """A valid CSRF token of the actor's session (one per session, Flask-WTF; fetched again
        after an endpoint of LAST may have ended the session)."""
        if actor not in self._tokens:
            client = self.clients[actor]
            page = client.get(TOKEN_PAGES[actor])
            if 'name="csrf_token"' not in page.text:  # a hostile try signed the actor out
                self.sign_in(actor)
                page = client.get(TOKEN_PAGES[actor])
            if 'name="csrf_token"' not in page.text:  # still out (locked): any page's token
                page = client.get("/staff/login" if actor.startswith("staff") else "/resume")
            self._tokens[actor] = csrf_token(page.text)
        return self._tokens[actor]


# GETs that act (log in as someone, come back from a provider) are swept, never crawled.
NEVER_CRAWL = {
    "identity.callback",
    "submissions.sign_callback",
    "counter.sign_callback",
    "payments.return_from_provider",
    "mock_jpki.authorize",
    "static",
}


def _query(query: str) -> str:
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "lang"]
    return f"?{urlencode(pairs)}" if pairs else ""


def with_query(url: str, values: dict[str, str]) -> str:
    """`url` with `values` replacing (or adding) query parameters, percent-encoded as a browser
    would send them (a str that UTF-8 cannot encode, a lone surrogate, goes as its bytes'
    replacement: the portal then sees U+FFFD)."""
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query) if k not in values]
    pairs += list(values.items())
    encoded = "&".join(f"{_enc(k)}={_enc(v)}" for k, v in pairs)
    return parts.path + (f"?{encoded}" if encoded else "")


def _enc(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def with_path_args(app: Flask, target: Target, value: str) -> str | None:
    """The target's URL with every string argument replaced by `value` (None: none to replace)."""
    if target.url is None:
        return None
    path = urlsplit(target.url).path
    for method in ("GET", "POST"):
        try:
            endpoint, args = app.url_map.bind("localhost").match(path, method=method)
        except (NotFound, MethodNotAllowed, RequestRedirect):
            continue
        if endpoint == target.endpoint:
            break
    else:
        return None
    rule = next(r for r in app.url_map.iter_rules(target.endpoint) if r.rule == target.rule)
    strings = [
        name
        for name, converter in rule._converters.items()
        if type(converter).__name__ in ("UnicodeConverter", "PathConverter")
    ]
    if not strings:
        return None
    args = {**args, **dict.fromkeys(strings, value)}
    built = rule.rule
    for name, current in args.items():
        built = re.sub(rf"<(?:[^:<>]+:)?{name}>", lambda _m, c=current: _enc(str(c)), built)
    return built


# --- sending -------------------------------------------------------------------------------------
CSRF_FAILED = "ページの有効期限が切れました"
STOPPED = {401, 403, 404, 405}


@dataclasses.dataclass
class Outcome:
    target: Target
    method: str
    url: str
    status: int
    headers: list[tuple[str, str]]
    body: str
    error: str | None = None  # an exception that escaped the app

    @property
    def reached(self) -> bool:
        """Whether the request got past routing, login, permissions and CSRF to the code that
        reads its input."""
        if self.status in STOPPED or self.status >= 500:
            return False
        location = dict(self.headers).get("Location", "")
        if self.status in (301, 302, 303, 307, 308):
            return urlsplit(location).path not in ("/login", "/staff/login")
        return not (self.status == 400 and CSRF_FAILED in self.body)

    def describe(self) -> str:
        return f"{self.method} {self.target.endpoint} {self.url[:120]!r} -> {self.status}" + (
            f" ({self.error})" if self.error else ""
        )


def encode_form(data: dict[str, str]) -> bytes:
    """A urlencoded body as a browser sends it (UTF-8; a lone surrogate as its own bytes)."""
    return "&".join(f"{_enc(k)}={_enc(v)}" for k, v in data.items()).encode("ascii")


def header_value(value: str) -> str:
    """`value` as a client can put it in a header: its UTF-8 bytes read as Latin-1, without the
    line breaks no HTTP server lets through."""
    raw = value.encode("utf-8", "surrogatepass").decode("latin-1")
    return raw.replace("\r", "").replace("\n", "")


def send(world: World, target: Target, method: str, url: str, **kwargs) -> Outcome:
    client = world.clients[target.actor]
    headers = {**actor_headers(world, target), **kwargs.pop("headers", {})}
    if target.endpoint in LAST:
        world._tokens.clear()
    try:
        response = client.open(url, method=method, headers=headers, **kwargs)
    except Exception as error:  # an exception that escaped: what a server answers with a 500
        return Outcome(target, method, url, 500, [], "", f"{type(error).__name__}: {error}"[:300])
    return Outcome(
        target,
        method,
        url,
        response.status_code,
        list(response.headers.items()),
        response.get_data(as_text=True) if response.mimetype.startswith("text/") else "",
    )


def actor_headers(world: World, target: Target) -> dict[str, str]:
    if target.endpoint.startswith("staff_api."):
        return {"Authorization": f"Bearer {world.api_token}"}
    if target.endpoint.startswith("mock_pay.api_"):
        return {**API_KEY, "Idempotency-Key": uuid.uuid4().hex}
    return {}


def tries(
    world: World, target: Target, value: str, headers: dict[str, str], query: tuple[str, ...] = ()
) -> Iterator[Outcome]:
    """One request per way `value` can reach the target: in its query string (with `headers`),
    in the fields of its forms (with a valid CSRF token), in its path arguments."""
    if target.url is None:
        return
    if "GET" in target.methods:
        yield send(world, target, "GET", target.url, headers=headers)  # in the headers only
        names = [*target.query, "next", "q", *query]
        yield send(
            world,
            target,
            "GET",
            with_query(target.url, dict.fromkeys(names, value)),
            headers=headers,
        )
    if "POST" in target.methods:
        # As typed: the value in every field a person types into, the rest as the page offers.
        typed = {**dict.fromkeys([*target.fields, "next"], value), **target.chosen}
        typed["csrf_token"] = world.token(target.actor)
        yield send(
            world,
            target,
            "POST",
            target.url,
            data=encode_form(typed),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )
        # Tampered: the value in every field, hidden and chosen ones too.
        data = dict.fromkeys([*target.fields, "next"], value)
        data["csrf_token"] = world.token(target.actor)
        yield send(
            world,
            target,
            "POST",
            target.url,
            data=encode_form(data),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )
        if target.endpoint in JSON_ENDPOINTS:
            body = value.encode("utf-8", "surrogatepass")
            yield send(
                world,
                target,
                "POST",
                target.url,
                data=body,
                content_type="application/json",
                headers=headers,
            )
    path = with_path_args(world.app, target, value)
    if path is not None:
        method = "GET" if "GET" in target.methods else "POST"
        yield send(world, target, method, path, headers=headers)


JSON_ENDPOINTS = {
    "payments.webhook",
    "mock_pay.api_create_payment",
    "mock_pay.api_refund",
    "mock_jpki.create_sign_transaction",
}
