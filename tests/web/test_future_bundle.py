"""The moving bundle for a move two weeks ahead and for one made last week (issue 22): every
member accepts the dates the law allows, or the checklist leaves it for later and says when to
come back; no member is prefilled with a date its own rules refuse; the bundle completes."""

from __future__ import annotations

import pytest

from tests.conftest import check_page, csrf_token
from tests.web import test_bundle_pages as pages
from tests.web.test_bundle_pages import fixed_clock, mover  # noqa: F401  (fixtures)
from tests.web.test_identity_features import stub  # noqa: F401  (fixture)

pytestmark = [pytest.mark.db]

# NOW is 令和8年11月22日 (tests/web/test_bundle_pages.py)
AHEAD = "令和8年12月6日"  # two weeks ahead
LAST_WEEK = "令和8年11月15日"
AFTER_MOVING = ["kokuho-kanyu-dattai", "jidoteate-nintei", "kodomo-iryohi"]


def _checklist(client, direction: str, move_date: str):
    pages.screen(client, pages.SCREENING | {"direction": direction, "move_date": move_date})
    page = client.get(pages.CHECKLIST)
    soup = check_page(page)
    return page, soup, [t["value"] for t in soup.select("input[name=procedure]")]


def _file(client, page, offered: list[str], values: dict) -> tuple[str, object]:
    response = client.post(
        pages.CHECKLIST, data={"csrf_token": csrf_token(page.text), "procedure": offered}
    )
    assert response.status_code == 303
    first = response.headers["Location"]
    _shown, check = pages.fill_in(client, first, values)  # no member page refuses its prefill
    path = pages.bundle_path(first)
    response = pages.post_check(client, path)
    if response.status_code == 302:  # a member needs the signature
        response = client.get("/sign/callback")
    assert response.status_code == 303 and response.headers["Location"] == f"{path}?done=1"
    return path, response


def test_a_move_into_the_city_two_weeks_ahead(app, mover, stub):  # noqa: F811
    page, soup, offered = _checklist(mover, "into", AHEAD)
    # 転入予約 takes the planned date; what only a resident living here may claim is left for
    # later, and the checklist says when to come back.
    assert "tennyu-yoyaku" in offered and "hoiku-riyou" in offered
    assert not set(AFTER_MOVING) & set(offered)
    text = soup.get_text()
    assert "国民健康保険の加入の届出（住み始めてから）" in text
    assert "住み始めた日から14日以内に" in text
    assert "児童手当の認定請求・子ども医療費助成の申請（住み始めてから）" in text
    path, _ = _file(mover, page, offered, pages.VALUES | {"visit_date": "令和8年12月7日"})
    bundle, members = pages.stored(app, path)
    assert bundle.status == "submitted" and set(members) == set(offered)
    assert members["tennyu-yoyaku"].answers["move_date"] == "2026-12-06"


def test_a_move_into_the_city_made_last_week(app, mover, stub):  # noqa: F811
    page, soup, offered = _checklist(mover, "into", LAST_WEEK)
    assert set(AFTER_MOVING) <= set(offered)
    assert "（住み始めてから）" not in soup.get_text()
    path, _ = _file(mover, page, offered, pages.VALUES | {"visit_date": "令和8年11月24日"})
    bundle, members = pages.stored(app, path)
    assert bundle.status == "submitted"
    assert members["kokuho-kanyu-dattai"].answers["change_date"] == "2026-11-15"


# The records show the mover in 国保: 転出届 ticks it, so the card's return is asked too.
OUT = {"new_head": "notifier", "new_address.city": "船橋市", "insurance_return": "post"}


@pytest.mark.parametrize(
    ("move_date", "visit"), [(AHEAD, "令和8年12月7日"), (LAST_WEEK, "令和8年11月24日")]
)
def test_a_move_out_of_the_city_takes_the_move_date_for_the_tenshutsu(
    app,
    mover,  # noqa: F811
    stub,  # noqa: F811
    move_date,
    visit,
):
    page, _soup, offered = _checklist(mover, "out", move_date)
    assert "tenshutsu" in offered and "kokuho-kanyu-dattai" not in offered
    path, _ = _file(mover, page, offered, pages.VALUES | OUT | {"visit_date": visit})
    _bundle, members = pages.stored(app, path)
    expected = "2026-12-06" if move_date == AHEAD else "2026-11-15"
    # filled from the screening (not asked again), and accepted by 転出届's own rules
    assert members["tenshutsu"].answers["move_date"] == expected
    # the new address, asked once on the shared page (not as いすみ市's), fills 転出届's
    assert members["tenshutsu"].answers["new_address"]["city"] == "船橋市"
    assert members["tenshutsu"].answers["related"] == ["kokuho"]  # from the insurance records


def test_a_move_out_asks_the_new_address_outside_the_city(app, mover, stub):  # noqa: F811
    page, _soup, offered = _checklist(mover, "out", AHEAD)
    response = mover.post(
        pages.CHECKLIST, data={"csrf_token": csrf_token(page.text), "procedure": offered}
    )
    location = response.headers["Location"]
    while "/shared/addresses" not in location:  # the pages before it (contact)
        response = mover.post(
            location, data=pages.form_data(mover.get(location).text, pages.VALUES)
        )
        assert response.status_code == 303, pages.errors_of(response)
        location = response.headers["Location"]
    text = check_page(mover.get(location)).get_text()
    assert "引越し先の新しい住所" in text and "いすみ市の新しい住所" not in text


def test_the_page_counter_runs_on_across_the_whole_bundle(app, mover, stub):  # noqa: F811
    """「全Nページ中nページ目」 counts every page of the bundle, shared and members', without
    restarting at a member."""
    import re
    from urllib.parse import urlsplit

    location = pages.begin(mover)
    seen = []
    while not urlsplit(location).path.endswith("/check"):
        page = mover.get(location)
        caption = check_page(page).select_one(".caption").get_text()
        found = re.search(r"全(\d+)ページ中(\d+)ページ目", caption)
        assert found, caption
        seen.append((int(found[1]), int(found[2])))
        response = mover.post(location, data=pages.form_data(page.text, pages.VALUES))
        assert response.status_code == 303, pages.errors_of(response)
        location = response.headers["Location"]
    totals = {total for total, _ in seen}
    assert totals == {len(seen)} and len(seen) > 5  # one count, ending at the last page
    assert [position for _, position in seen] == list(range(1, len(seen) + 1))
