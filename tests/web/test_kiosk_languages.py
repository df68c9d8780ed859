"""The kiosk in the visitor's language (issue 20 with issue 23, decision 0057): the start screen's
language buttons begin a visit in 日本語, やさしい日本語 or English; every kiosk screen follows it
(the queue slip too); the reset ends it with the visit, so the next visitor starts in Japanese.

Marked `db` like the other kiosk tests (the wipe deletes sessions by a JSON field)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.db import db
from portal.kiosk import service
from portal.kiosk.models import Kiosk, KioskVisit
from tests.conftest import check_page, csrf_token
from tests.factories import staff_sign_in
from tests.web.test_kiosk import form_post, register_terminal, start_visit
from tests.web.test_kiosk_services import PLACE, TODAY, check_in, tickets  # noqa: F401

pytestmark = pytest.mark.db

JAPANESE = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def japanese_outside_marked(page) -> list[str]:
    """The visible text of <main> left once every element marked lang="ja" is taken out: the
    strings of it that hold Japanese characters (none when the page is all English)."""
    main = page.find("main")
    for element in main.find_all(["script", "style", "template"]):
        element.decompose()
    # Marked Japanese, and the language choices named in themselves (简体中文 is Han too).
    for element in main.find_all(attrs={"lang": lambda value: value and value != "en"}):
        element.decompose()
    return [s.strip() for s in main.stripped_strings if JAPANESE.search(s)]


def choose(terminal, lang: str):
    response = form_post(terminal, "/kiosk/", "/kiosk/visit", {"lang": lang})
    assert (response.status_code, response.headers["Location"]) == (303, "/kiosk/")


def test_a_visit_in_english_then_easy_japanese_and_the_next_visit_is_japanese(
    app,
    staff,
    tickets,  # noqa: F811 (the fixture)
):
    terminal, _ = register_terminal(app, staff, place=PLACE)
    start = check_page(terminal.get("/kiosk/"))
    assert start.html["lang"] == "ja" and start.h1.get_text() == "ご用件を選んでください"
    # The choice: large buttons, each in its own language, the current one pressed.
    choices = {b["value"]: b for b in start.select("form.kiosk-languages button[name=lang]")}
    assert {code: (b.get_text(), b["lang"]) for code, b in choices.items()} == {
        "ja": ("日本語", "ja"),
        "easy": ("やさしい日本語", "ja"),
        "en": ("English", "en"),
        "zh": ("简体中文", "zh-Hans"),
        "ko": ("한국어", "ko"),
        "vi": ("Tiếng Việt", "vi"),
        "pt": ("Português", "pt-BR"),
        "ne": ("नेपाली", "ne"),
    }
    assert [b["aria-pressed"] for b in choices.values()] == ["true"] + ["false"] * 7
    ja_tiles = [b.get_text() for b in start.select(".kiosk-tiles button")]

    # English: the start screen again (now in a visit), the menu and the check-in page.
    choose(terminal, "en")
    start = check_page(terminal.get("/kiosk/"))
    assert start.html["lang"] == "en" and start.find("main")["lang"] == "en"
    assert start.h1.get_text() == "What would you like to do?"
    assert start.find("button", attrs={"value": "en"})["aria-pressed"] == "true"
    assert "前の方の情報は消去されました" not in start.get_text()  # only before a visit
    assert japanese_outside_marked(start) == []
    menu = check_page(terminal.get("/kiosk/procedures"))
    assert menu.h1.get_text() == "Choose a procedure"
    assert japanese_outside_marked(menu) == []
    assert menu.find("a", string="Finish")  # the kiosk frame's header too
    dialog = menu.find("dialog", id="kiosk-timeout")  # and its idle countdown
    assert dialog.h2.get_text() == "Are you still there?"
    assert dialog.find(attrs={"data-countdown": True})["data-countdown-format"] == "{n} s"
    assert not JAPANESE.search(dialog.get_text())
    checkin = check_page(terminal.get("/kiosk/checkin"))
    assert checkin.h1.get_text() == "Appointment check-in"
    assert japanese_outside_marked(checkin) == []
    # Bad input: the error in English, the typed code kept.
    refused = check_page(check_in(terminal, "ZZZZ-ZZZZ"), 400)
    assert "No appointment has this check-in code" in refused.get_text()
    assert refused.find("input", attrs={"name": "code"})["value"] == "ZZZZ-ZZZZ"
    assert japanese_outside_marked(refused) == []
    # The queue slip in English (the counter's name is the city's, marked Japanese).
    response = check_in(terminal, tickets["hanako"]["code"])
    assert response.headers["Location"] == "/kiosk/checkin/slip"
    slip = check_page(terminal.get("/kiosk/checkin/slip"))
    assert slip.select_one(".slip__label").get_text() == "Queue number"
    assert slip.select_one(".slip")["aria-label"] == "Queue slip"
    assert japanese_outside_marked(slip) == []
    end = check_page(terminal.get("/kiosk/end"))
    assert end.h1.get_text() == "Finish?" and japanese_outside_marked(end) == []

    # やさしい日本語 in the same visit: Japanese, and not the standard Japanese.
    choose(terminal, "easy")
    easy = check_page(terminal.get("/kiosk/"))
    assert easy.html["lang"] == "ja"
    assert easy.h1.get_text() == "したい ことを えらんでください"
    easy_tiles = [b.get_text() for b in easy.select(".kiosk-tiles button")]
    assert len(easy_tiles) == len(ja_tiles) and easy_tiles != ja_tiles
    assert "手続き（てつづき）を する" in easy_tiles and "手続をする" in ja_tiles
    easy_menu = check_page(terminal.get("/kiosk/procedures"))
    assert easy_menu.h1.get_text() == "手続き（てつづき）を えらんでください"

    # The end of the visit ends the language: the next visitor starts in Japanese.
    response = form_post(terminal, "/kiosk/end", "/kiosk/end")
    assert (response.status_code, response.headers["Location"]) == (303, "/kiosk/")
    start = check_page(terminal.get("/kiosk/"))
    assert start.html["lang"] == "ja" and start.h1.get_text() == "ご用件を選んでください"
    assert start.find("button", attrs={"value": "ja"})["aria-pressed"] == "true"
    # A tile begins the next visit in Japanese, on the menu as before.
    response = form_post(terminal, "/kiosk/", "/kiosk/visit")
    assert response.headers["Location"] == "/kiosk/procedures"
    assert check_page(terminal.get("/kiosk/procedures")).h1.get_text() == "手続を選んでください"

    # The idle reset ends an English visit the same way.
    form_post(terminal, "/kiosk/end", "/kiosk/end")
    choose(terminal, "en")
    assert check_page(terminal.get("/kiosk/")).html["lang"] == "en"
    reset = app.config["KIOSK_IDLE_RESET_SECONDS"]
    clock.set_override(TODAY + dt.timedelta(seconds=reset + 60))
    start = check_page(terminal.get("/kiosk/"))
    assert start.html["lang"] == "ja" and start.h1.get_text() == "ご用件を選んでください"
    assert "前の方の情報は消去されました" in start.get_text()


def test_every_page_of_a_visit_shows_its_language_and_changes_it(app, staff):
    """The kiosk frame's language menu (decision 0090): the visit's language marked current on
    the menu, the end page and a procedure's page; a link of it changes the language of the
    same page for the rest of the visit. A form step has its menu inside the form, the start
    screen its language buttons: one menu on each, never two."""
    terminal, _ = register_terminal(app, staff, place=PLACE)
    choose(terminal, "en")
    for url in ("/kiosk/procedures", "/kiosk/end", "/procedures/juminhyo-copy"):
        page = check_page(terminal.get(url))
        menus = page.select("header nav.language-menu")
        assert len(menus) == 1, url
        links = {a["href"].rsplit("=", 1)[1]: a for a in menus[0].find_all("a")}
        assert len(links) == 8 and links["en"]["aria-current"] == "true", url
        assert [a.get_text() for a in menus[0].select("[aria-current]")] == ["English"]
    assert links["ko"]["href"] == "/procedures/juminhyo-copy?lang=ko"
    response = terminal.get("/kiosk/procedures?lang=easy")
    assert (response.status_code, response.headers["Location"]) == (303, "/kiosk/procedures")
    menu = check_page(terminal.get("/kiosk/procedures"))
    assert menu.h1.get_text() == "手続き（てつづき）を えらんでください"
    current = menu.select("header nav.language-menu [aria-current]")
    assert [a.get_text() for a in current] == ["やさしい日本語"]
    # The start screen in a visit: its buttons, no second menu.
    start = check_page(terminal.get("/kiosk/"))
    assert not start.select("nav.language-menu")
    assert start.find("button", attrs={"value": "easy"})["aria-pressed"] == "true"
    # A form step: the menu of its form only.
    token = csrf_token(terminal.get("/procedures/juminhyo-copy").text)
    response = terminal.post("/procedures/juminhyo-copy/start", data={"csrf_token": token})
    step = check_page(terminal.get(response.headers["Location"]))
    assert [nav.find_parent("form")["id"] for nav in step.select("nav.language-menu")] == [
        "step-form"
    ]


def test_the_out_of_service_page_reads_in_the_language_its_buttons_choose(app, staff, monkeypatch):
    """Decision 0092: a kiosk out of service (a wipe failed) shows the start screen's language
    buttons; each shows the same page again in its language (a GET with `lang`), and begins
    nothing. Back in service, the next visitor starts in Japanese."""
    terminal, _ = register_terminal(app, staff, place=PLACE)
    start_visit(terminal)

    def broken(_session, _visit):
        raise OSError("disk on fire")

    monkeypatch.setattr(service, "_delete_sessions", broken)
    page = check_page(form_post(terminal, "/kiosk/end", "/kiosk/end"), 503)
    assert page.h1.get_text() == "ただいま使用できません。職員にお声がけください"
    form = page.select_one("main form.kiosk-languages")
    assert form["method"] == "get" and not form.has_attr("action")  # this page's own address
    assert not form.select("input")  # no CSRF token: a GET that changes no record
    choices = {b["value"]: b for b in form.select("button[name=lang]")}
    assert list(choices) == ["ja", "easy", "en", "zh", "ko", "vi", "pt", "ne"]
    assert [b["aria-pressed"] for b in choices.values()] == ["true"] + ["false"] * 7

    # English: the same address again, in English.
    response = terminal.get("/kiosk/end?lang=en")
    assert (response.status_code, response.headers["Location"]) == (303, "/kiosk/end")
    page = check_page(terminal.get("/kiosk/end"), 503)
    assert page.html["lang"] == "en" and page.find("main")["lang"] == "en"
    assert page.h1.get_text() == "Not available now. Please ask a member of staff"
    assert page.find("button", attrs={"value": "en"})["aria-pressed"] == "true"
    assert japanese_outside_marked(page) == []
    # Korean on another address of the kiosk; still nothing else is served or begun.
    assert terminal.get("/kiosk/?lang=ko").headers["Location"] == "/kiosk/"
    page = check_page(terminal.get("/kiosk/"), 503)
    assert (
        page.html["lang"] == "ko"
        and page.h1.get_text() == "지금은 사용할 수 없습니다. 직원에게 말씀해 주세요"
    )
    assert terminal.post("/kiosk/visit", data={"lang": "en"}).status_code == 503
    assert terminal.get("/kiosk/procedures?lang=ko&x=1").headers["Location"] == (
        "/kiosk/procedures?x=1"
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(KioskVisit)) == 1

    # Back in service (the staff's wipe): the start screen, in Japanese.
    monkeypatch.undo()
    admin = staff_sign_in(app.test_client(), "admin", staff["admin"], ahead=1)
    with app.app_context():
        public_id = db.session.scalar(select(Kiosk.public_id))
    form_post(admin, "/staff/kiosks", f"/staff/kiosks/{public_id}/wipe")
    assert "使える状態に戻りました" in admin.get("/staff/kiosks").text
    start = check_page(terminal.get("/kiosk/"))
    assert start.html["lang"] == "ja" and start.h1.get_text() == "ご用件を選んでください"
    assert start.find("button", attrs={"value": "ja"})["aria-pressed"] == "true"
