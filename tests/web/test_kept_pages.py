"""The step page kept whole (portal/kept_pages.py, decision 0099): a page made from the kept
document is the page the template renders, in every state the key covers; one resident's values
never reach another's page; a state the key does not cover is rendered as before."""

from __future__ import annotations

import re

import pytest

from portal.kept_pages import _Page
from tests.conftest import check_page, csrf_token
from tests.factories import HOIKU_ANSWERS_BEFORE_EMPLOYMENT
from tests.web.test_engine import HOIKU, JUMINHYO, post, start

pytestmark = pytest.mark.db

STEP = f"{JUMINHYO}/apply/applicant"
SECONDS = re.compile(r'data-session-seconds-left="\d+"')


def signed_in(app, sub: str, name: str):
    client = app.test_client()
    with client.session_transaction() as web_session:
        web_session["user"] = {"sub": sub, "name": name, "provider": "jpki"}
    return client


def kept(app) -> dict:
    store = app.extensions.get("kept_pages")
    return store.pages if store is not None else {}


def rendered_without_keeping(app, client, url: str) -> str:
    """The same page, rendered by its template (the kept pages emptied first)."""
    kept(app).clear()
    return client.get(url).get_data(as_text=True)


def same_page(a: str, b: str) -> bool:
    # The seconds before a login times out tick between two requests.
    return SECONDS.sub("", a) == SECONDS.sub("", b)


def test_a_kept_step_page_is_the_rendered_page_in_every_state_of_its_key(app):
    anonymous = app.test_client()
    start(anonymous)
    resident = signed_in(app, "kept-resident", "大原 花子")
    start(resident, HOIKU)
    for step, data in HOIKU_ANSWERS_BEFORE_EMPLOYMENT.items():
        assert post(resident, f"{HOIKU}/apply/{step}", data).status_code == 302, step
    guardian = f"{HOIKU}/apply/guardian"
    states = [
        (anonymous, STEP, None),
        (anonymous, STEP, "/?lang=en"),
        (anonymous, STEP, "/?lang=easy"),
        (anonymous, STEP, "/?furigana=on"),
        (anonymous, f"{STEP}?return=check", None),
        (resident, guardian, None),
        (resident, guardian, "/?lang=vi"),
        (resident, f"{HOIKU}/apply/children", None),
        (resident, guardian, "/?lang=ja"),
        (resident, guardian, "/?furigana=on"),  # the signed-in name takes no ruby
        (resident, f"{HOIKU}/apply/children", None),
    ]
    furigana_pages = 0
    for client, url, switch in states:
        if switch:
            client.get(switch)
        kept(app).clear()
        first = client.get(url)  # kept now
        assert first.status_code == 200, url
        # The page could be kept (a template slot the view does not give, or gives another
        # value for, would leave it rendered every time: None in the store); one with ふりがな
        # keeps its text with ruby (the response's transform does not run on it again).
        [(key, page)] = kept(app).items()
        assert isinstance(page, _Page), (url, switch)
        if key[-5]:  # ふりがな on
            assert page.ruby is not None, (url, switch)
            furigana_pages += 1
        second = client.get(url).get_data(as_text=True)  # made from the kept page
        assert same_page(second, first.get_data(as_text=True)), (url, switch)
        assert same_page(second, rendered_without_keeping(app, client, url)), (url, switch)
    assert furigana_pages == 4


def test_the_display_settings_are_part_of_the_key(app):
    client = app.test_client()
    start(client)
    standard = client.get(STEP).get_data(as_text=True)
    assert "text-large" not in standard
    client.set_cookie("portal_display", "large.high")
    large = client.get(STEP).get_data(as_text=True)
    assert 'class="text-large contrast-high"' in large
    assert same_page(large, rendered_without_keeping(app, client, STEP))


def test_one_residents_values_never_reach_anothers_kept_page(app):
    first, second = signed_in(app, "kept-a", "大原 花子"), signed_in(app, "kept-b", "岬 次郎")
    start(first)
    start(second)
    answers = {
        "applicant_name": "大原 花子",
        "applicant_kana": "オオハラ ハナコ",
        "phone": "0470111111",
        "relationship": "self",
    }
    assert post(first, STEP, answers).status_code == 302
    assert check_page(first.get(STEP)).find(id="f-applicant_name")["value"] == "大原 花子"
    page = second.get(STEP).get_data(as_text=True)  # made from the page the first one kept
    assert "岬 次郎" in page
    assert "大原 花子" not in page and "0470111111" not in page
    assert csrf_token(page) != csrf_token(first.get(STEP).get_data(as_text=True))
    assert same_page(page, rendered_without_keeping(app, second, STEP))


def test_a_page_with_errors_or_a_message_is_rendered_as_before(app):
    client = app.test_client()
    start(client)
    client.get(STEP)
    count = len(kept(app))
    response = client.post(STEP, data={"csrf_token": csrf_token(client.get(STEP).text)})
    assert response.status_code == 200 and "error-summary" in response.get_data(as_text=True)
    # Shown again after the error (its errors and typed answers): rendered, nothing more kept.
    again = client.get(STEP).get_data(as_text=True)
    assert "error-summary" in again
    assert len(kept(app)) == count
