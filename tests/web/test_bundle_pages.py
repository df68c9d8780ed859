"""Filing a life event's procedures together (portal.bundles) through the pages, with the clock
fixed and a stub identity provider that signs with the mock CA: 山本 結衣 (persona `mover`)
moving into Isumi with her son files five procedures at once. The shared answers reach every
member and are not asked again; one signature transaction signs both documents that need one;
every member gets its own reference and the bundle one; a shared answer changed from the check
page changes every member; the bundle is its owner's only (404 for others, the login first,
CSRF); all or nothing when signing or a member fails; deadline reminders; the counter booking."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal import clock
from portal.appointments.models import Appointment
from portal.bundles import service as bundles
from portal.bundles.models import Bundle
from portal.clock import TOKYO
from portal.db import db
from portal.identity import signature as signatures
from portal.outbox.models import OutboxMessage
from portal.submissions import service as submissions
from portal.submissions.models import Submission, SubmissionEvent
from tests.conftest import check_page, csrf_token
from tests.web.test_identity_features import login, stub  # noqa: F401  (fixture)

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=TOKYO)
CHECKLIST = "/life-events/moving/checklist"
SCREENING = {
    "direction": "into",
    "move_date": "令和8年11月20日",
    "children": "yes",
    "insurance": "kokuho",
    "care": "no",
}
VALUES = {
    "phone": "09012345678",
    "email": "yui@example.jp",
    "previous_address.postal_code": "2730005",
    "previous_address.prefecture": "千葉県",
    "previous_address.city": "船橋市",
    "previous_address.town": "本町",
    "previous_address.block": "4丁目8番2号",
    "previous_address.building": "",
    "new_address.postal_code": "2980004",
    "new_address.prefecture": "千葉県",
    "new_address.city": "いすみ市",
    "new_address.town": "大原",
    "new_address.block": "2000番地",
    "new_address.building": "",
    "movers.0.has_card": "yes",
    "movers.1.has_card": "no",
    "tenshutsu_status": "online",
    "visit_date": "令和8年11月25日",
    "visit_time": "morning",
    "household_type": "new",
    "filer_role": "head",
    "prev_insurance_type": "other",
    "prev_insurer_name": "船橋市",
    "proof": "later",
    "claimant_my_number": "100000000153",
    "pension": "kokumin",
    "civil_servant": "no",
    "has_spouse": "no",
    "separated": "no",
    "has_older": "no",
    "account_choice": "koukin",
    "guardian_relationship": "mother",
    "insurance_type": "isumi-kokuho",
    "other_subsidy": "no",
    "delivery": "post",
    "nursery_1": "ohara",
    "start_date": "令和9年4月1日",
    "guardian_work": "job-seeking",
    "has_partner": "no",
    "children.0.allergy": "no",
}


@pytest.fixture(autouse=True)
def fixed_clock(app):
    clock.set_override(NOW)
    yield
    clock.set_override(None)


def form_data(html: str, values: dict) -> dict:
    """What a resident sends from a page: `values` where named, otherwise what it shows."""
    soup = BeautifulSoup(html, "html.parser")
    data: dict = {"csrf_token": csrf_token(html)}
    for tag in soup.select("form input, form select, form textarea"):
        name = tag.get("name")
        if name in (None, "csrf_token", "_action"):
            continue
        if name in values:
            data[name] = values[name]
        elif tag.name == "select":
            chosen = tag.select_one("option[selected]")
            if chosen is not None:
                data[name] = chosen.get("value")
        elif tag.name == "textarea":
            if tag.get_text():
                data[name] = tag.get_text()
        elif tag.get("type") in ("radio", "checkbox"):
            if tag.has_attr("checked"):
                data[name] = tag.get("value")
        elif tag.get("value"):
            data[name] = tag.get("value")
    return data


def screen(client, answers: dict = SCREENING) -> None:
    page = client.get("/life-events/moving")
    response = client.post(
        "/life-events/moving", data={**answers, "csrf_token": csrf_token(page.text)}
    )
    assert response.headers["Location"] == CHECKLIST


def begin(client, procedures: list[str] | None = None) -> str:
    """Answer the screening, choose procedures on the checklist (all offered when None) and
    start the bundle: its first page."""
    screen(client)
    page = client.get(CHECKLIST)
    offered = [tag["value"] for tag in check_page(page).select("input[name=procedure]")]
    chosen = offered if procedures is None else procedures
    response = client.post(
        CHECKLIST, data={"csrf_token": csrf_token(page.text), "procedure": chosen}
    )
    assert response.status_code == 303, response.status_code
    return response.headers["Location"]


def fill_in(client, location: str, values: dict = VALUES) -> tuple[list[str], str]:
    """Answer every page from `location` on; the pages shown and the check page reached."""
    shown = []
    while not urlsplit(location).path.endswith("/check"):
        page = client.get(location)
        check_page(page)
        shown.append(urlsplit(location).path)
        response = client.post(location, data=form_data(page.text, values))
        assert response.status_code == 303, (location, errors_of(response))
        location = response.headers["Location"]
        assert len(shown) < 40
    return shown, location


def errors_of(response) -> list[str]:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    return [e.get_text(" ", strip=True) for e in soup.select(".error-message")]


def bundle_path(location: str) -> str:
    return "/".join(urlsplit(location).path.split("/")[:3])


def stored(app, path: str) -> tuple[Bundle, dict[str, Submission]]:
    """The bundle of `path` and its members by procedure, as the database holds them."""
    with app.app_context():
        bundle = db.session.scalar(select(Bundle).where(Bundle.public_id == path.split("/")[2]))
        members = {m.procedure_id: m for m in bundles.members_of(db.session, bundle)}
        return bundle, members


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Bundle)),
            db.session.scalar(select(func.count()).select_from(Submission)),
        )


def post_check(client, path: str):
    """「まとめて申請する」 on the check page, with the declaration ticked."""
    page = client.get(f"{path}/check")
    check_page(page)
    return client.post(
        f"{path}/check", data={"csrf_token": csrf_token(page.text), "declaration": "yes"}
    )


def file_signed(client, path: str):
    """Submit a bundle that needs a signature: the provider's round trip, then the result."""
    response = post_check(client, path)
    assert response.status_code == 302
    assert response.headers["Location"] == "http://localhost/sign/callback"
    return client.get("/sign/callback")


def reminders(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "bundle_deadline_reminder")
                .order_by(OutboxMessage.send_after, OutboxMessage.id)
            )
        )


ALL = ["tennyu-yoyaku", "kokuho-kanyu-dattai", "jidoteate-nintei", "kodomo-iryohi", "hoiku-riyou"]
UNSIGNED = ["tennyu-yoyaku", "kokuho-kanyu-dattai", "kodomo-iryohi"]
TITLES = {
    "tennyu-yoyaku": "転入予約（来庁予定の連絡）",
    "kokuho-kanyu-dattai": "国民健康保険の加入・脱退の届出",
    "jidoteate-nintei": "児童手当の認定請求",
    "kodomo-iryohi": "子ども医療費助成の申請",
    "hoiku-riyou": "保育施設等の利用申込",
}


@pytest.fixture
def mover(client, stub):  # noqa: F811
    """The client of 山本 結衣, signed in; her card signs."""
    login(client, "mover")
    stub.signer = "mover"
    return client


# --- the whole moving bundle ----------------------------------------------------------------------


def test_the_moving_bundle_asks_once_signs_once_and_files_everything(app, mover, stub):  # noqa: F811
    first = begin(mover)
    path = bundle_path(first)
    assert first == f"{path}/shared/contact"
    shown, check = fill_in(mover, first)
    assert check == f"{path}/check"

    # The shared questions come first, once; steps the bundle answered have no page.
    assert shown[:3] == [f"{path}/shared/{step}" for step in ("contact", "addresses", "movers")]
    pages = {p.removeprefix(f"{path}/apply/") for p in shown[3:]}
    for skipped in (
        "jidoteate-nintei/reason",
        "hoiku-riyou/guardian",
    ):
        assert skipped not in pages
    # 子ども医療費's one page of the guardian and the children shows only what is left (子どもとの
    # 関係: the mover is not a parent in this city's records); its insurance page follows.
    assert "kodomo-iryohi/children" in pages and "kodomo-iryohi/guardian" not in pages
    assert {"tennyu-yoyaku/dates", "jidoteate-nintei/claimant", "hoiku-riyou/preferences"} <= pages

    bundle, members = stored(app, path)
    assert list(members) == ALL and bundle.status == "draft"
    # The shared answers reach every member.
    for member in members.values():
        assert member.answers["phone"] == "09012345678", member.procedure_id
    for pid in ("kokuho-kanyu-dattai", "jidoteate-nintei", "kodomo-iryohi", "hoiku-riyou"):
        assert members[pid].answers["address"]["town"] == "大原"
    assert members["tennyu-yoyaku"].answers["email"] == "yui@example.jp"
    assert members["tennyu-yoyaku"].answers["move_date"] == "2026-11-20"  # from the screening
    assert members["kokuho-kanyu-dattai"].answers["kind"] == "join"
    assert [m["member_name"] for m in members["kokuho-kanyu-dattai"].answers["members"]] == [
        "山本 結衣",
        "山本 湊",
    ]
    # Only the children of the movers are children of the allowance and subsidies.
    assert members["jidoteate-nintei"].answers["children"] == [
        {
            "child_name": "山本 湊",
            "child_kana": "ヤマモト ミナト",
            "child_birth_date": "2021-06-03",
            "child_relationship": "child",
        }
    ]
    assert members["jidoteate-nintei"].answers["previous_address"]["city"] == "船橋市"
    assert [c["child_name"] for c in members["kodomo-iryohi"].answers["children"]] == ["山本 湊"]
    # ... and count as gone through.
    assert members["kokuho-kanyu-dattai"].steps_done[:1] == ["filer"]
    assert "reason" in members["jidoteate-nintei"].steps_done
    assert "children" in members["kodomo-iryohi"].steps_done
    assert "guardian" in members["hoiku-riyou"].steps_done

    # A member's page asks only what the bundle left open.
    notifier = check_page(mover.get(f"{path}/apply/tennyu-yoyaku/notifier"))
    assert notifier.select("input[name=phone], input[name=email]") == []
    assert notifier.select_one("input[name='notifier.name']") is not None
    filer = check_page(mover.get(f"{path}/apply/kokuho-kanyu-dattai/filer"))
    assert filer.select("input[name^='address.'], input[name=phone]") == []
    assert filer.select("input[name=filer_role]") != []
    # the kind, its date and the members came from the shared answers: not asked on that page
    assert filer.select("input[name=kind], input[name=change_date]") == []
    assert filer.select("input[name^='members.']") == []

    # The check page lists every procedure, those needing a signature marked.
    soup = check_page(mover.get(check))
    assert [li.get_text(strip=True) for li in soup.select("main ul.list")[0].select("li")] == [
        TITLES[pid] + ("（電子署名が必要）" if pid in ("jidoteate-nintei", "hoiku-riyou") else "")
        for pid in ALL
    ]
    headings = [h.get_text(strip=True) for h in soup.select("h2.heading-m")]
    assert all(TITLES[pid] in headings for pid in ALL)
    assert soup.find("button", string="署名してまとめて申請する")

    # One signature transaction covers both documents that need one.
    done = file_signed(mover, path)
    assert done.status_code == 303 and done.headers["Location"] == f"{path}?done=1"
    assert [d["title"] for d in stub.pending["t1"]] == [
        "児童手当の認定請求（申請書）",
        "保育施設等の利用申込（申請書）",
    ]
    bundle, members = stored(app, path)
    assert bundle.status == "submitted"
    assert re.fullmatch(r"ISB-[0-9A-Z]{4}-[0-9A-Z]{4}", bundle.reference)
    references = [m.reference for m in members.values()]
    assert all(re.fullmatch(r"ISM-[0-9A-Z]{4}-[0-9A-Z]{4}", r) for r in references)
    assert len(set(references)) == 5
    assert {m.status for m in members.values()} == {"submitted"}
    anchors = stub.trust_anchors()
    digests = []
    with app.app_context():
        for pid, member in members.items():
            if pid not in ("jidoteate-nintei", "hoiku-riyou"):
                assert member.signature is None
                continue
            signed = member.signature
            assert signed["bundle"] == path.split("/")[2]
            result = signatures.verify(
                submissions.signed_content(db.session, member),
                signed["signature"],
                signed["certificate"],
                dt.datetime.fromisoformat(signed["signed_at"]),
                anchors,
                digest=signed["digest"],
            )
            assert result.valid, pid
            digests.append(signed["digest"])
    assert digests == [d["digest"] for d in stub.pending["t1"]] and len(set(digests)) == 2

    # The bundle's page: one bundle reference, each member's own, and its status page.
    soup = check_page(mover.get(f"{path}?done=1"))
    assert soup.h1.get_text(strip=True) == "まとめて申請しました"
    assert soup.select_one("strong.reference").get_text() == bundle.reference
    text = soup.get_text(" ", strip=True)
    for member in members.values():
        assert f"受付番号 {member.reference}" in text
    links = {a.get_text(strip=True): a["href"] for a in soup.select(".checklist__item h3 a")}
    for pid, member in members.items():
        status = check_page(mover.get(links[TITLES[pid]]))
        assert member.reference in status.get_text()
    check_page(mover.get(f"{path}/plan"))

    # A submitted bundle's pages go to its overview; the one deadline left is reminded of.
    assert mover.get(check).headers["Location"] == path
    assert mover.get(f"{path}/shared/contact").headers["Location"] == path
    assert [(m.subject, m.to_address) for m in reminders(app)] == [
        ("【いすみ市】転入届の期限が近づいています", "yui@example.jp")
    ]


def test_changing_a_shared_answer_from_the_check_page_changes_every_member(app, mover):
    path = bundle_path(begin(mover))
    fill_in(mover, f"{path}/shared/contact")
    soup = check_page(mover.get(f"{path}/check"))
    change = soup.select_one("a.summary-card__change")["href"]
    assert change == f"{path}/shared/contact?return=check"
    page = mover.get(change)
    assert check_page(page).find("a", string=re.compile("戻る"))["href"] == f"{path}/check"
    response = mover.post(change, data=form_data(page.text, {**VALUES, "phone": "0470623111"}))
    assert response.status_code == 303
    bundle, members = stored(app, path)
    assert bundle.shared["phone"] == "0470623111"
    assert {pid: m.answers["phone"] for pid, m in members.items()} == dict.fromkeys(
        ALL, "0470623111"
    )
    # What the resident answered on a member's own page stays: the allergy of the child on
    # the nursery application (a sub-answer of a group the bundle fills), so nothing is
    # asked again and the resident is back on the check page.
    assert members["hoiku-riyou"].answers["children"] == [
        {
            "child_name": "山本 湊",
            "child_kana": "ヤマモト ミナト",
            "child_birth_date": "2021-06-03",
            "allergy": False,
        }
    ]
    assert response.headers["Location"] == f"{path}/check"
    assert "0470623111" in check_page(mover.get(f"{path}/check")).get_text()


# --- who may open a bundle ------------------------------------------------------------------------


def test_another_resident_gets_404_on_every_bundle_url(app, mover, stub):  # noqa: F811
    path = bundle_path(begin(mover))
    fill_in(mover, f"{path}/shared/contact")
    _, before = stored(app, path)
    urls = [
        f"{path}",
        f"{path}/plan",
        f"{path}/check",
        f"{path}/shared/contact",
        f"{path}/shared/movers",
        f"{path}/apply/tennyu-yoyaku/notifier",
        f"{path}/apply/hoiku-riyou/children",
        f"{path}/files/kokuho-kanyu-dattai/any-token",
    ]
    other = app.test_client()
    login(other, "adult")
    token = csrf_token(other.get("/life-events/moving").text)
    for url in urls:
        check_page(other.get(url), 404)
    for url in urls[2:6]:
        data = {"csrf_token": token, "phone": "0470000000", "declaration": "yes"}
        response = other.post(url, data=data)
        check_page(response, 404)
    bundle, after = stored(app, path)
    assert bundle.status == "draft" and bundle.shared["phone"] == "09012345678"
    assert {pid: m.answers for pid, m in after.items()} == {
        pid: m.answers for pid, m in before.items()
    }
    # Submitted, the bundle's page and its visit plan are still the owner's only.
    file_signed(mover, path)
    check_page(mover.get(path))
    check_page(mover.get(f"{path}/plan"))
    for url in urls[:2]:
        check_page(other.get(url), 404)


def test_bundle_pages_need_a_login(app, mover):
    path = bundle_path(begin(mover))
    visitor = app.test_client()
    for url in (
        path,
        f"{path}/plan",
        f"{path}/check",
        f"{path}/shared/contact",
        f"{path}/apply/tennyu-yoyaku/notifier",
        f"{path}/files/tennyu-yoyaku/any-token",
    ):
        response = visitor.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url
    # The checklist offers the bundle, but starting it needs a login too.
    screen(visitor)
    page = visitor.get(CHECKLIST)
    assert "マイナンバーカードでログインしてから始めます" in check_page(page).get_text()
    response = visitor.post(CHECKLIST, data={"csrf_token": csrf_token(page.text), "procedure": ALL})
    assert response.headers["Location"].startswith("/login?next=")
    assert counts(app) == (1, 5)  # only the mover's bundle


def test_posts_without_a_csrf_token_are_refused(app, mover):
    screen(mover)
    check_page(mover.post(CHECKLIST, data={"procedure": ALL}), 400)
    assert counts(app) == (0, 0)
    path = bundle_path(begin(mover))
    response = mover.post(f"{path}/shared/contact", data={"phone": "0470623111"})
    check_page(response, 400)
    fill_in(mover, f"{path}/shared/contact")
    check_page(mover.post(f"{path}/check", data={"declaration": "yes"}), 400)
    bundle, members = stored(app, path)
    assert bundle.shared["phone"] == "09012345678" and bundle.status == "draft"
    assert {m.status for m in members.values()} == {"draft"}


def test_choosing_no_procedure_creates_nothing(app, mover):
    screen(mover)
    page = mover.get(CHECKLIST)
    response = mover.post(CHECKLIST, data={"csrf_token": csrf_token(page.text)})
    soup = check_page(response, 422)
    assert (
        "まとめて申請する手続を1つ以上選んでください"
        in soup.select_one(".error-summary").get_text()
    )
    assert soup.select_one("#f-procedure-error") is not None
    assert counts(app) == (0, 0)
    # A procedure that is not offered (not on this checklist) counts as none chosen.
    response = mover.post(
        CHECKLIST, data={"csrf_token": csrf_token(page.text), "procedure": "juminhyo-copy"}
    )
    check_page(response, 422)
    assert counts(app) == (0, 0)


# --- all or nothing -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["access_denied", "signature_locked", "unreachable"])
def test_a_failed_signature_files_nothing(app, mover, stub, kind):  # noqa: F811
    path = bundle_path(begin(mover))
    fill_in(mover, f"{path}/shared/contact")
    _, before = stored(app, path)
    stub.fail_with = kind
    page = check_page(file_signed(mover, path), 503 if kind == "unreachable" else 400)
    assert page.find("a", string="申請内容の確認に戻る")["href"] == f"{path}/check"
    bundle, members = stored(app, path)
    assert bundle.status == "draft" and bundle.reference is None
    for pid, member in members.items():
        assert member.status == "draft" and member.reference is None, pid
        assert member.signature is None and member.answers == before[pid].answers
    assert reminders(app) == []
    # Signing again works: everything is filed then.
    stub.fail_with = None
    assert file_signed(mover, path).headers["Location"] == f"{path}?done=1"
    _, members = stored(app, path)
    assert {m.status for m in members.values()} == {"submitted"}


def failing_third_submit(monkeypatch) -> list[str]:
    """portal.submissions.service.submit raises for the third member it is called for."""
    called: list[str] = []
    original = submissions.submit

    def submit(session, submission, *args, **kwargs):
        called.append(submission.procedure_id)
        if len(called) == 3:
            raise RuntimeError("the third member breaks")
        return original(session, submission, *args, **kwargs)

    monkeypatch.setattr(submissions, "submit", submit)
    return called


def assert_nothing_filed(app, path: str, before: dict[str, Submission]) -> None:
    bundle, members = stored(app, path)
    assert bundle.status == "draft" and bundle.reference is None and bundle.submitted_at is None
    assert bundle.shared["phone"] == "09012345678"
    for pid, member in members.items():
        assert member.status == "draft", pid
        assert member.reference is None and member.submitted_at is None, pid
        assert member.answers == before[pid].answers, pid
        assert member.steps_done == before[pid].steps_done, pid
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SubmissionEvent)) == 0
    assert reminders(app) == []


def test_a_member_failing_to_submit_files_no_member(app, mover, monkeypatch):
    path = bundle_path(begin(mover, UNSIGNED))
    fill_in(mover, f"{path}/shared/contact")
    _, before = stored(app, path)
    assert list(before) == UNSIGNED
    called = failing_third_submit(monkeypatch)
    soup = check_page(post_check(mover, path), 422)
    assert called == UNSIGNED
    alert = soup.select_one('[role="alert"]').get_text(" ", strip=True)
    assert "申請をまとめて送信できませんでした" in alert
    assert (
        "「子ども医療費助成の申請」の送信で問題が起きたため、どの申請も送信していません。" in alert
    )
    assert "入力した内容はすべて保存されています" in alert
    assert_nothing_filed(app, path, before)
    # Once the problem is gone, the same check page files all three.
    monkeypatch.undo()
    response = post_check(mover, path)
    assert response.status_code == 303 and response.headers["Location"] == f"{path}?done=1"
    bundle, members = stored(app, path)
    assert bundle.status == "submitted"
    assert {m.status for m in members.values()} == {"submitted"}


def test_a_member_failing_after_signing_files_no_member(app, mover, stub, monkeypatch):  # noqa: F811
    path = bundle_path(begin(mover))
    fill_in(mover, f"{path}/shared/contact")
    _, before = stored(app, path)
    failing_third_submit(monkeypatch)
    page = check_page(file_signed(mover, path), 500)
    assert page.h1.get_text(strip=True) == "申請をまとめて送信できませんでした"
    assert page.find("a", string="申請内容の確認に戻る")["href"] == f"{path}/check"
    assert_nothing_filed(app, path, before)


# --- after filing: reminders and the visit ------------------------------------------------------


def test_reminders_for_the_open_deadlines_when_an_email_is_given(app, mover):
    path = bundle_path(begin(mover, ["tennyu-yoyaku", "kodomo-iryohi"]))
    fill_in(mover, f"{path}/shared/contact")
    assert post_check(mover, path).headers["Location"] == f"{path}?done=1"
    queued = reminders(app)
    # 転入届 (at the counter) and 国民健康保険 (not filed with the bundle): 14 days from
    # 20 November, reminded 3 days before at 9:00.
    assert [m.subject for m in queued] == [
        "【いすみ市】転入届の期限が近づいています",
        "【いすみ市】国民健康保険の加入・脱退の届出の期限が近づいています",
    ]
    reference = stored(app, path)[0].reference
    for message in queued:
        assert message.to_address == "yui@example.jp"
        assert message.send_after == dt.datetime(2026, 12, 1, 9, 0, tzinfo=TOKYO)
        assert message.related == f"bundle:{path.split('/')[2]}"
        assert "2026年12月4日" in message.body and reference in message.body


def test_no_reminders_without_an_email(app, mover):
    path = bundle_path(begin(mover, ["tennyu-yoyaku", "kodomo-iryohi"]))
    fill_in(mover, f"{path}/shared/contact", {**VALUES, "email": ""})
    assert "email" not in stored(app, path)[0].shared
    assert post_check(mover, path).headers["Location"] == f"{path}?done=1"
    assert stored(app, path)[0].status == "submitted"
    assert reminders(app) == []


def test_booking_the_counter_for_the_bundle_links_the_appointment(app, mover):
    path = bundle_path(begin(mover, UNSIGNED))
    fill_in(mover, f"{path}/shared/contact")
    post_check(mover, path)
    soup = check_page(mover.get(path))
    assert "予約：" not in soup.get_text()
    booking = soup.find("a", string="窓口に行く日時を予約する")["href"]
    counter, _, query = booking.partition("?")
    assert counter == "/appointments/shimin-main"
    assert f"bundle={path.split('/')[2]}" in query
    bundle = stored(app, path)[0]
    notice = check_page(mover.get(booking)).select_one("p.notice").get_text()
    assert f"まとめて申請した手続（受付番号 {bundle.reference}）のための予約です" in notice
    day = f"{counter}/2026-11-25?{query}"
    page = mover.get(day)
    check_page(page)
    data = form_data(page.text, {"time": "09:00", "name": "山本 結衣", "email": "yui@example.jp"})
    response = mover.post(day, data=data)
    assert response.status_code == 303, errors_of(response)
    with app.app_context():
        appointment = db.session.scalar(select(Appointment))
        assert appointment.bundle_id == bundle.id
        assert appointment.details["bundle_reference"] == bundle.reference
    text = check_page(mover.get(path)).get_text(" ", strip=True)
    # One booking for both counter procedures: 転入届 and the card, an hour.
    assert "予約：2026年11月25日（水）9時00分から10時00分まで" in text.replace(" ", "")
    assert f"窓口で受付番号 {bundle.reference} をお伝えください" in text
    assert "窓口に行く日時を予約する" not in text

    # Another resident cannot attach a booking to someone else's bundle.
    other = app.test_client()
    login(other, "adult")
    page = other.get(day)
    assert "まとめて申請した手続" not in check_page(page).get_text()
    data = form_data(page.text, {"time": "10:00", "name": "大原 太郎", "email": "taro@example.jp"})
    response = other.post(day, data=data)
    assert response.status_code == 303, errors_of(response)
    with app.app_context():
        appointments = db.session.scalars(select(Appointment).order_by(Appointment.id)).all()
        assert [a.bundle_id for a in appointments] == [bundle.id, None]
        assert "bundle_reference" not in appointments[1].details
