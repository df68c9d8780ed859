"""The staff inbox: one department at a time (another department's cases never show, whatever the
query string says), each filter and the counts per status, 期限超過 in words with its due date,
keyset pages with neither duplicates nor gaps, the search by reference, name and kana sent by
POST (the results are its response: no name in any URL or Location), CSRF on the search, wrong
dates answered next to their field, and a page costing the same queries for 5 rows as for 50."""

from __future__ import annotations

import copy
import datetime as dt
import re
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from sqlalchemy import event, select, update

from portal import clock
from portal.db import db
from portal.demo import example_answers
from portal.staff.exports import encode_cursor
from portal.submissions import service
from portal.submissions.models import Submission
from tests.conftest import check_page, csrf_token
from tests.factories import staff_sign_in as sign_in

JST = clock.TOKYO
NOW = dt.datetime(2026, 5, 20, 10, 0, tzinfo=JST)  # when the clerks look at the inbox
PURGED = "保存期間経過のため削除済み"


@pytest.fixture
def clerks(staff):  # noqa: F811  (the fixture imported above)
    """login_id -> TOTP secret: kosodate-clerk, shimin-clerk and admin (both departments)."""
    return staff


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JST)


def file_case(
    app,
    procedure_id: str,
    when: dt.datetime,
    *,
    name: str | None = None,
    kana: str | None = None,
    status: str | None = None,
) -> tuple[str, str]:
    """A case filed at `when` from the catalog's example answers, its first person renamed, and
    moved to `status` if given; returns (reference, public_id). Leaves the clock at NOW."""
    clock.set_override(when)
    try:
        with app.app_context():
            catalog = app.extensions["catalog"]
            procedure = catalog.procedure(procedure_id)
            submission, _token = service.start_draft(db.session, catalog, procedure, clock.now())
            answers = example_answers(app, db.session, submission, procedure, clock.today_local())
            if name is not None:
                person = next(
                    f.name
                    for f in procedure.fields()
                    if f.type == "person" and isinstance(answers.get(f.name), dict)
                )
                answers[person] = {**answers[person], "name": name, "kana": kana}
            submission.answers = answers
            submission.steps_done = [s.id for s in procedure.steps]
            db.session.flush()
            service.submit(
                db.session,
                submission,
                True,
                app.config["STATUS_LINK_KEY"],
                clock.today_local(),
                clock.now(),
            )
            if status is not None:
                submission.status = status
            db.session.commit()
            return submission.reference, submission.public_id
    finally:
        clock.set_override(NOW)


def clerk(app, clerks, login_id: str = "kosodate-clerk"):
    clock.set_override(NOW)
    return sign_in(app.test_client(), login_id, clerks[login_id])


def _results(page):
    caption = page.find("caption", string=re.compile(r"^(申請|検索結果)（"))
    return caption.find_parent("table") if caption else None


def result_refs(page) -> list[str]:
    table = _results(page)
    if table is None:
        return []
    return [th.get_text(strip=True) for th in table.tbody.find_all("th", scope="row")]


def search(client, term: str, **filters):
    page = client.get("/staff/inbox" + ("?" + urlencode(filters) if filters else ""))
    data = {"q": term, "csrf_token": csrf_token(page.text), **filters}
    return client.post("/staff/inbox/search", data=data)


# --- where the inbox is, and whose cases it shows ------------------------------------------------


def test_the_home_page_links_to_the_inbox_of_the_members_department(app, clerks):
    ninshin, _ = file_case(app, "ninshin-todoke", at(2026, 5, 19, 9, 0))
    koseki, _ = file_case(app, "koseki-shomei", at(2026, 5, 19, 9, 5))  # 市民課
    client = clerk(app, clerks)
    home = check_page(client.get("/staff/"))
    assert home.find("a", string="受付一覧（絞り込み・検索）")["href"] == "/staff/inbox"
    page = check_page(client.get("/staff/inbox"))
    assert page.h1.get_text() == "受付一覧（子育て支援課）"
    assert result_refs(page) == [ninshin]
    departments = [o["value"] for o in page.find("select", id="f-department").find_all("option")]
    assert departments == ["kosodate"]
    procedures = {o["value"] for o in page.find("select", id="f-procedure").find_all("option")}
    assert "ninshin-todoke" in procedures and "koseki-shomei" not in procedures
    assert koseki not in page.get_text()


def test_a_clerk_never_sees_another_departments_cases(app, clerks):
    koseki, _ = file_case(
        app, "koseki-shomei", at(2026, 5, 19, 9, 5), name="市民 一郎", kana="シミン イチロウ"
    )
    client = clerk(app, clerks)
    assert client.get("/staff/inbox?department=shimin").status_code == 404
    assert client.get("/staff/inbox?department=nowhere").status_code == 404
    # A procedure of another department is refused as a filter, not shown.
    response = client.get("/staff/inbox?procedure=koseki-shomei")
    page = check_page(response, 400)
    assert "選んだ担当課の手続ではありません" in page.find(id="f-procedure-error").get_text()
    assert koseki not in response.text
    # The search stays inside the member's department too, by reference or by name.
    token = csrf_token(client.get("/staff/inbox").text)
    for term in (koseki, "市民", "シミン"):
        response = client.post(
            "/staff/inbox/search", data={"q": term, "csrf_token": token, "department": "shimin"}
        )
        assert response.status_code == 404
        response = client.post("/staff/inbox/search", data={"q": term, "csrf_token": token})
        page = check_page(response)
        assert result_refs(page) == [] and "条件に合う申請はありません。" in page.get_text()
    # The 市民課 clerk sees it; the administrator of both departments chooses between them.
    shimin = clerk(app, clerks, "shimin-clerk")
    assert result_refs(check_page(shimin.get("/staff/inbox"))) == [koseki]
    admin = clerk(app, clerks, "admin")
    page = check_page(admin.get("/staff/inbox"))
    options = [o["value"] for o in page.find("select", id="f-department").find_all("option")]
    assert options == ["shimin", "kosodate"]  # catalog order; the first is shown
    assert result_refs(page) == [koseki]
    assert result_refs(check_page(admin.get("/staff/inbox?department=kosodate"))) == []


def test_the_inbox_is_a_404_without_a_staff_session(app, clerks):
    client = app.test_client()
    assert client.get("/staff/inbox").status_code == 404
    assert client.post("/staff/inbox/search", data={"q": "x"}).status_code == 404


# --- filters and counts --------------------------------------------------------------------------


@pytest.fixture
def cases(app):
    """子育て支援課 cases in several procedures, states and days (and one of 市民課)."""
    return {
        "ninshin-new": file_case(app, "ninshin-todoke", at(2026, 5, 19, 9, 0))[0],
        "ninshin-review": file_case(
            app, "ninshin-todoke", at(2026, 5, 1, 9, 0), status="in_review"
        )[0],
        "ninshin-waiting": file_case(
            app, "ninshin-todoke", at(2026, 4, 1, 9, 0), status="waiting_resident"
        )[0],
        "ninshin-done": file_case(app, "ninshin-todoke", at(2026, 3, 1, 9, 0), status="completed")[
            0
        ],
        "kifu-old": file_case(app, "jidoteate-kifu", at(2026, 4, 30, 23, 30))[0],
        "kifu-approved": file_case(
            app, "jidoteate-kifu", at(2026, 5, 10, 0, 10), status="approved"
        )[0],
        "iryohi": file_case(app, "kodomo-iryohi", at(2026, 5, 15, 12, 0))[0],
        "shimin": file_case(app, "koseki-shomei", at(2026, 5, 1, 9, 0))[0],
    }


def test_filters_by_procedure_status_dates_and_overdue(app, clerks, cases):
    client = clerk(app, clerks)
    everything = result_refs(check_page(client.get("/staff/inbox")))
    assert everything == [
        cases[k]
        for k in (
            "ninshin-new",
            "iryohi",
            "kifu-approved",
            "ninshin-review",
            "kifu-old",
            "ninshin-waiting",
            "ninshin-done",
        )
    ]

    def refs(query: str) -> set[str]:
        return set(result_refs(check_page(client.get(f"/staff/inbox?{query}"))))

    ninshin = {
        cases[k] for k in ("ninshin-new", "ninshin-review", "ninshin-waiting", "ninshin-done")
    }
    assert refs("procedure=ninshin-todoke") == ninshin
    assert refs("status=in_review") == {cases["ninshin-review"]}
    assert refs("procedure=jidoteate-kifu&status=submitted") == {cases["kifu-old"]}
    # Dates are days in Japan, both included, typed as residents type them.
    assert refs("from=2026-05-01&to=2026-05-10") == {
        cases["ninshin-review"],
        cases["kifu-approved"],
    }
    assert refs("from=令和8年4月30日&to=2026/4/30") == {cases["kifu-old"]}  # 23:30 in Japan
    assert refs("from=２０２６－０５－１５") == {cases["ninshin-new"], cases["iryohi"]}
    assert refs("to=R8.4.1") == {cases["ninshin-waiting"], cases["ninshin-done"]}
    # Overdue: open, past the processing days (ninshin 5, kifu 14, kodomo-iryohi 7).
    assert refs("overdue=1") == {cases["ninshin-review"], cases["kifu-old"]}
    assert refs("overdue=1&procedure=jidoteate-kifu") == {cases["kifu-old"]}
    assert refs("overdue=1&status=submitted") == {cases["kifu-old"]}
    # The filters stay in the form.
    page = check_page(
        client.get("/staff/inbox?procedure=jidoteate-kifu&status=submitted&overdue=1")
    )
    assert page.find("option", value="jidoteate-kifu").has_attr("selected")
    assert page.find("select", id="f-status").find("option", value="submitted").has_attr("selected")
    assert page.find("input", id="f-overdue").has_attr("checked")
    assert "状態：申請済み" in page.get_text() and "期限超過のみ" in page.get_text()


def test_counts_per_status_link_to_the_status_filter(app, clerks, cases):
    client = clerk(app, clerks)
    page = check_page(client.get("/staff/inbox?from=2026-05-19"))  # dates do not narrow counts
    table = page.find("caption", string=re.compile("状態ごとの件数")).find_parent("table")
    counts = {
        tr.th.get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")]
        for tr in table.tbody.find_all("tr")
    }
    assert counts["申請済み"] == ["3件", "1件"]  # ninshin-new, kifu-old (overdue), iryohi
    assert counts["審査中"] == ["1件", "1件"]
    assert counts["補正のお願い"] == ["1件", "0件"]  # the resident's turn: never overdue
    assert counts["承認"] == ["1件", "0件"]
    assert counts["完了"] == ["1件", "0件"]
    assert counts["決裁中"] == ["0件", "0件"] and counts["不承認"] == ["0件", "0件"]
    assert counts["すべての状態"] == ["7件", "2件（期限超過だけを表示）"]
    assert "入力中" not in counts  # drafts never reach the inbox
    link = table.find("a", string="審査中")["href"]
    assert parse_qs(urlparse(link).query) == {"department": ["kosodate"], "status": ["in_review"]}
    assert result_refs(check_page(client.get(link))) == [cases["ninshin-review"]]
    page = check_page(client.get(link))
    assert page.find("a", string="審査中")["aria-current"] == "true"
    # Within a procedure, the counts are that procedure's.
    page = check_page(client.get("/staff/inbox?procedure=jidoteate-kifu"))
    table = page.find("caption", string=re.compile("状態ごとの件数")).find_parent("table")
    total = table.find("a", string="すべての状態").find_parent("tr")
    assert [td.get_text(strip=True) for td in total.find_all("td")][0] == "2件"
    link = table.find("a", string="承認")["href"]
    assert parse_qs(urlparse(link).query)["procedure"] == ["jidoteate-kifu"]


def test_overdue_cases_say_so_in_words_with_their_due_date(app, clerks, cases):
    client = clerk(app, clerks)
    page = check_page(client.get("/staff/inbox"))
    rows = {
        tr.th.get_text(strip=True): [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        for tr in _results(page).tbody.find_all("tr")
    }
    assert rows[cases["ninshin-review"]][-1] == "期限超過 2026/05/06"  # 5 days after 5/1
    assert rows[cases["kifu-old"]][-1] == "期限超過 2026/05/14"  # 14 days after 4/30 23:30
    assert rows[cases["ninshin-new"]][-1] == "2026/05/24"
    assert rows[cases["kifu-approved"]][-1] == "2026/05/24"
    assert rows[cases["ninshin-waiting"]][-1] == "2026/04/06"  # past, but the resident's turn
    assert rows[cases["ninshin-done"]][-1] == "2026/03/06"  # past, but completed
    tagged = {
        tr.th.get_text(strip=True)
        for tr in _results(page).tbody.find_all("tr")
        if tr.find("strong", class_="tag", string="期限超過")
    }
    assert tagged == {cases["ninshin-review"], cases["kifu-old"]}
    # Other columns: procedure title from the snapshot, applicant, status label, time.
    assert rows[cases["ninshin-new"]][:4] == [
        "妊娠の届出",
        "岬 花子 ミサキ ハナコ",
        "申請済み",
        "2026/05/19 09:00",
    ]
    link = _results(page).find("a", string=cases["ninshin-new"])["href"]
    assert re.fullmatch(r"/staff/submissions/[\w-]+", link)
    assert client.get(link).status_code == 200
    # Five days later the new case is not late yet; a few minutes after its due time it is.
    client = clerk_at(app, clerks, at(2026, 5, 24, 8, 59))
    assert cases["ninshin-new"] not in result_refs(check_page(client.get("/staff/inbox?overdue=1")))
    client = clerk_at(app, clerks, at(2026, 5, 24, 9, 1))
    assert cases["ninshin-new"] in result_refs(check_page(client.get("/staff/inbox?overdue=1")))


def clerk_at(app, clerks, when):
    clock.set_override(when)
    return sign_in(app.test_client(), "kosodate-clerk", clerks["kosodate-clerk"])


def test_a_purged_case_shows_no_name(app, clerks):
    reference, public_id = file_case(app, "ninshin-todoke", at(2026, 5, 1, 9, 0))
    with app.app_context():
        db.session.execute(
            update(Submission)
            .where(Submission.public_id == public_id)
            .values(answers={}, applicant_search=None, purged_at=clock.now())
        )
        db.session.commit()
    page = check_page(clerk(app, clerks).get("/staff/inbox"))
    row = _results(page).find("a", string=reference).find_parent("tr")
    assert row.find_all("td")[1].get_text(strip=True) == PURGED


# --- pages ---------------------------------------------------------------------------------------


def test_keyset_pages_have_no_duplicates_or_gaps(app, clerks):
    # 120 cases: many share a submission time to the microsecond (the id breaks the tie).
    filed = []
    for n in range(120):
        when = at(2026, 5, 1, 9, 0) + dt.timedelta(minutes=n // 4)
        filed.append((when, file_case(app, "jidoteate-kifu", when)[0]))
    newest_first = [ref for _when, ref in sorted(filed, key=lambda x: x[0], reverse=True)]
    client = clerk(app, clerks)
    seen: list[str] = []
    url = "/staff/inbox?procedure=jidoteate-kifu"
    pages = 0
    while url:
        page = check_page(client.get(url))
        refs = result_refs(page)
        assert len(refs) == (50 if pages < 2 else 20)
        seen += refs
        pages += 1
        if pages == 1:
            # A case filed while the clerk reads page 1 shows on page 1 later, not on page 2.
            file_case(app, "jidoteate-kifu", at(2026, 5, 19, 9, 0))
        following = page.find("a", string="次の50件")
        url = following["href"] if following else None
        if url:
            query = parse_qs(urlparse(url).query)
            assert query["procedure"] == ["jidoteate-kifu"] and query["department"] == ["kosodate"]
            assert set(query) == {"department", "procedure", "cursor"}
        if pages > 1:
            assert page.find("a", string="最初の50件に戻る")
    assert pages == 3
    assert len(seen) == len(set(seen)) == 120
    # Same times sorted by id, newest first: the order of filing reversed within a minute.
    assert seen == [ref for _when, ref in reversed(filed)]
    assert set(seen) == set(newest_first)


def test_a_cursor_that_was_not_handed_out_is_refused(app, clerks):
    client = clerk(app, clerks)
    assert client.get("/staff/inbox?cursor=not-a-cursor").status_code == 400
    assert client.get("/staff/inbox?cursor=W10").status_code == 400  # base64 of []


def test_a_page_costs_the_same_queries_for_5_rows_as_for_50(app, clerks):
    client = clerk(app, clerks)

    def statements(url: str) -> list[str]:
        seen: list[str] = []

        def record(_conn, _cursor, statement, *_args):
            seen.append(statement)

        with app.app_context():
            engine = db.session.get_bind()
        event.listen(engine, "before_cursor_execute", record)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return [s for s in seen if "FROM submissions" in s]

    for n in range(5):
        file_case(app, "ninshin-todoke", at(2026, 5, 1, 9, n))
    few = statements("/staff/inbox")
    for n in range(50):
        file_case(app, "jidoteate-kifu", at(2026, 5, 2, 9, n))
    many = statements("/staff/inbox")
    assert len(few) == len(many) == 2  # the rows and the grouped counts
    assert any("GROUP BY" in s for s in many)
    assert any("LIMIT" in s and "ORDER BY submissions.submitted_at DESC" in s for s in many)


def test_a_status_the_catalog_no_longer_has_is_read_from_the_cases_snapshot(app, clerks):
    """A case keeps the workflow it started with: its own snapshot names a state the catalog's
    workflow dropped since (one more query for the page, not one per row)."""
    old, public_id = file_case(app, "ninshin-todoke", at(2026, 4, 1, 9, 0))
    new, _ = file_case(app, "ninshin-todoke", at(2026, 5, 1, 9, 0))
    with app.app_context():
        case = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
        snapshot = copy.deepcopy(case.snapshot)
        snapshot["workflow"]["states"]["received"] = {
            "label": "受付済み",
            "description": "担当課が申請を受け付けました。",
        }
        case.snapshot = snapshot
        case.status = "received"
        db.session.commit()
    client = clerk(app, clerks)
    page = check_page(client.get("/staff/inbox"))
    rows = {
        tr.th.get_text(strip=True): [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        for tr in _results(page).tbody.find_all("tr")
    }
    assert rows[old][2] == "受付済み" and rows[new][2] == "申請済み"
    # Overdue is decided by the catalog's workflow, in the list as in the filter and counts.
    assert rows[old][4] == "2026/04/06"
    counts = page.find("caption", string=re.compile("状態ごとの件数")).find_parent("table")
    legacy = counts.find("th", string="received").find_parent("tr")  # counted, under its id
    assert [td.get_text() for td in legacy.find_all("td")] == ["1件", "0件"]
    assert legacy.find("a") is None  # not a filter the form offers


# --- search --------------------------------------------------------------------------------------


@pytest.fixture
def people(app):
    return {
        "yamada": file_case(
            app, "ninshin-todoke", at(2026, 5, 1, 9, 0), name="山田 花子", kana="ヤマダ ハナコ"
        )[0],
        "yamamoto": file_case(
            app,
            "jidoteate-kifu",
            at(2026, 5, 2, 9, 0),
            name="山本 太郎",
            kana="ヤマモト タロウ",
            status="in_review",
        )[0],
        "smith": file_case(
            app, "kodomo-iryohi", at(2026, 5, 3, 9, 0), name="SMITH John", kana="スミス ジョン"
        )[0],
    }


def test_search_by_reference_however_it_is_typed(app, clerks, people):
    client = clerk(app, clerks)
    reference = people["yamamoto"]
    typed = [
        reference,
        reference.lower(),
        reference.replace("-", ""),
        "".join(chr(ord(c) + 0xFEE0) for c in reference),  # full width
        f"  {reference}  ",
    ]
    for term in typed:
        page = check_page(search(client, term))
        assert result_refs(page) == [reference], term
        assert page.title.get_text().startswith("受付一覧（検索結果）")


def test_search_by_kanji_name_and_by_kana_in_hiragana_or_katakana(app, clerks, people):
    client = clerk(app, clerks)
    assert set(result_refs(check_page(search(client, "山")))) == {
        people["yamada"],
        people["yamamoto"],
    }
    assert result_refs(check_page(search(client, "山田　花子"))) == [people["yamada"]]
    assert result_refs(check_page(search(client, "やまだ"))) == [people["yamada"]]
    assert result_refs(check_page(search(client, "ヤマモト"))) == [people["yamamoto"]]
    assert result_refs(check_page(search(client, "ﾔﾏﾓﾄ ﾀﾛｳ"))) == [people["yamamoto"]]
    assert result_refs(check_page(search(client, "たろう"))) == [people["yamamoto"]]
    assert result_refs(check_page(search(client, "smith"))) == [people["smith"]]
    # % and _ are letters, not wildcards.
    assert result_refs(check_page(search(client, "%"))) == []
    assert result_refs(check_page(search(client, "_"))) == []
    # Within the filters in force.
    assert result_refs(check_page(search(client, "山", status="in_review"))) == [people["yamamoto"]]
    assert result_refs(check_page(search(client, "山", procedure="ninshin-todoke"))) == [
        people["yamada"]
    ]
    page = check_page(search(client, "山", status="in_review"))
    assert (
        "「山」を、子育て支援課、すべての手続、状態：審査中の中から探した結果です。"
        in page.get_text()
    )
    assert page.find("input", id="f-q")["value"] == "山"


def test_no_name_ever_reaches_a_url(app, clerks, people):
    client = clerk(app, clerks)
    page_response = client.get("/staff/inbox")
    page = check_page(page_response)
    form = page.find("input", id="f-q").find_parent("form")
    assert form["method"] == "post" and form["action"] == "/staff/inbox/search"
    assert form.find("input", attrs={"name": "csrf_token"})
    # The filter form is a GET with no free text but dates.
    filters = page.find("select", id="f-department").find_parent("form")
    assert filters["method"] == "get"
    assert {i["name"] for i in filters.find_all(["input", "select"])} == {
        "department",
        "procedure",
        "status",
        "from",
        "to",
        "overdue",
    }
    for term in ("山田", "やまだ", "SMITH"):
        response = search(client, term)
        assert response.status_code == 200 and "Location" not in response.headers
        assert response.headers["Cache-Control"] == "no-store"
        result = check_page(response)
        for tag in result.find_all(href=True):
            assert term not in tag["href"] and "山" not in tag["href"], tag["href"]
        for tag in result.find_all(action=True):
            assert term not in tag["action"]


def test_search_results_page_by_posting_the_cursor(app, clerks):
    refs = [
        file_case(
            app, "jidoteate-kifu", at(2026, 5, 1, 9, n), name="川口 次郎", kana="カワグチ ジロウ"
        )[0]
        for n in range(55)
    ]
    file_case(
        app, "jidoteate-kifu", at(2026, 5, 1, 10, 0), name="別人 三郎", kana="ベツジン サブロウ"
    )
    client = clerk(app, clerks)
    first = check_page(search(client, "かわぐち"))
    assert len(result_refs(first)) == 50
    button = first.find("button", string="次の50件")
    assert first.find("a", string="次の50件") is None  # never a link carrying the name
    form = button.find_parent("form")
    assert form["method"] == "post" and form["action"] == "/staff/inbox/search"
    data = {i["name"]: i["value"] for i in form.find_all("input")}
    assert data["q"] == "かわぐち" and data["cursor"]
    second = check_page(client.post("/staff/inbox/search", data=data))
    assert len(result_refs(second)) == 5
    assert set(result_refs(first)) | set(result_refs(second)) == set(refs)
    assert not set(result_refs(first)) & set(result_refs(second))
    assert second.find("button", string="最初の50件に戻る")


def test_an_empty_search_says_so_and_keeps_the_filters(app, clerks, people):
    client = clerk(app, clerks)
    response = search(client, "   ", procedure="jidoteate-kifu", status="in_review")
    page = check_page(response, 400)
    assert page.title.get_text().startswith("エラー：")
    summary = page.find(class_="error-summary")
    link = summary.find("a", string="受付番号、氏名またはフリガナを入力してください")
    assert link["href"] == "#f-q"
    assert page.find(id="f-q-error") and page.find("input", id="f-q")["aria-invalid"] == "true"
    assert page.find("option", value="jidoteate-kifu").has_attr("selected")
    assert page.find("select", id="f-status").find("option", value="in_review").has_attr("selected")
    search_form = page.find("input", id="f-q").find_parent("form")
    hidden = {i["name"]: i["value"] for i in search_form.find_all("input", type="hidden")}
    assert hidden["procedure"] == "jidoteate-kifu" and hidden["status"] == "in_review"


def test_the_search_needs_the_csrf_token(app, clerks, people):
    client = clerk(app, clerks)
    response = client.post("/staff/inbox/search", data={"q": "山田"})
    assert response.status_code == 400
    assert people["yamada"] not in response.text
    response = client.post("/staff/inbox/search", data={"q": "山田", "csrf_token": "forged"})
    assert response.status_code == 400


# --- wrong dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2026-02-30", "from", "開始日：2026年2月30日は存在しない日付です"),
        ("to=きのう", "to", "終了日：正しい日付ではありません"),
        ("from=2026-05-10&to=2026-05-01", "to", "終了日は、開始日と同じ日か、それより後の日"),
    ],
)
def test_a_wrong_date_is_explained_next_to_its_field(app, clerks, cases, query, field, message):
    client = clerk(app, clerks)
    page = check_page(client.get(f"/staff/inbox?{query}&procedure=jidoteate-kifu&overdue=1"), 400)
    assert page.title.get_text().startswith("エラー：")
    error = page.find(id=f"f-{field}-error").get_text()
    assert message in error
    assert page.find("input", id=f"f-{field}")["aria-invalid"] == "true"
    assert f"f-{field}-error" in page.find("input", id=f"f-{field}")["aria-describedby"]
    assert page.find(class_="error-summary").find("a", href=f"#f-{field}")
    # Other filters kept; what was typed kept; no rows shown under a filter that is not applied.
    assert page.find("option", value="jidoteate-kifu").has_attr("selected")
    assert page.find("input", id="f-overdue").has_attr("checked")
    typed = parse_qs(query)[field][0]
    assert page.find("input", id=f"f-{field}")["value"] == typed
    assert result_refs(page) == []
    assert "入力を直すと、申請を表示します。" in page.get_text()


def test_encode_cursor_round_trips_through_the_page(app, clerks):
    """The cursor is the position only: the same cursor under other filters still pages."""
    refs = [file_case(app, "ninshin-todoke", at(2026, 5, 1, 9, n))[0] for n in range(3)]
    client = clerk(app, clerks)

    class At:
        submitted_at = at(2026, 5, 1, 9, 1).astimezone(dt.UTC)
        id = 10**9

    cursor = encode_cursor(At)
    page = check_page(client.get(f"/staff/inbox?cursor={cursor}"))
    assert result_refs(page) == [refs[1], refs[0]]
