"""The page layout's cached pieces (portal/layout.py, decision 0061): each page still shows its
own language, login state, name, CSRF token and links to itself, whoever rendered the piece
first; a new catalog renders them again; nothing personal is kept in the cache. And the two
other caches of that decision: a draft's snapshot parsed once per stored text, and
flask-limiter's middleware skipped only when no limit could apply."""

from __future__ import annotations

from sqlalchemy import select

from portal import layout
from portal.db import db
from portal.i18n import LANGUAGES
from portal.submissions.models import Submission
from tests.conftest import check_page, csrf_token

JUMINHYO = "/procedures/juminhyo-copy"


def signed_in(app, name: str, sub: str):
    client = app.test_client()
    with client.session_transaction() as web_session:
        web_session["user"] = {"sub": sub, "name": name, "provider": "jpki"}
    return client


def header(page):
    return page.select_one(".site-header__inner")


def test_each_resident_sees_their_own_name_and_token(app):
    first, second = signed_in(app, "鷹羽 織江", "a"), signed_in(app, "<b>岬 花子</b>", "b")
    one, two = check_page(first.get("/")), check_page(second.get("/"))
    assert header(one).select_one(".site-header__user").get_text() == "鷹羽 織江 さん"
    # Escaped as `{{ }}` did: markup in a name is text.
    assert header(two).select_one(".site-header__user").get_text() == "<b>岬 花子</b> さん"
    assert header(two).find("b") is None
    tokens = [
        p.select_one(".site-header__account input[name=csrf_token]")["value"] for p in (one, two)
    ]
    assert tokens[0] != tokens[1]
    # The same session's token as the page's own form (signed with a timestamp: the payload).
    assert tokens[0].split(".")[0] == csrf_token(first.get("/accessibility").text).split(".")[0]
    # The idle-timeout dialog's form too: the resident's own token and page.
    dialog = check_page(second.get("/privacy")).find(id="session-timeout")
    assert dialog.find("input", attrs={"name": "next"})["value"] == "/privacy"
    assert dialog.select_one("a.button")["href"] == "/login?next=/privacy"
    # Nothing personal in the cache: only the chrome, with markers where the values go.
    kept = "".join(
        "".join(parts) for parts, _ in app.extensions["layout_fragments"].pieces.values()
    )
    for personal in ("鷹羽", "花子", *tokens):
        assert personal not in kept


def test_logging_in_and_out_changes_the_header(app, client):
    assert header(check_page(client.get("/"))).find("a", string="ログイン")
    with client.session_transaction() as web_session:
        web_session["user"] = {"sub": "x", "name": "大原 太郎", "provider": "jpki"}
    shown = header(check_page(client.get("/")))
    assert shown.find("a", string="ログイン") is None
    assert shown.select_one(".site-header__user").get_text() == "大原 太郎 さん"
    with client.session_transaction() as web_session:
        del web_session["user"]
    assert header(check_page(client.get("/"))).find("a", string="ログイン")


def test_switching_language_changes_the_header_footer_and_menu(client):
    for lang, login, footer, current in (
        ("ja", "ログイン", "手続の一覧", "日本語"),
        ("en", "Log in", "All procedures", "English"),
        ("easy", "ログイン", "手続き（てつづき）の いちらん", "やさしい日本語"),
        ("ja", "ログイン", "手続の一覧", "日本語"),
    ):
        page = check_page(client.get(f"/accessibility?lang={lang}", follow_redirects=True))
        assert header(page).select_one(".site-header__login").get_text() == login
        assert page.select_one(".site-footer__links a").get_text() == footer
        assert page.select_one(".language-menu a[aria-current]").get_text() == current


def test_links_to_the_current_page_follow_the_page(client):
    for path in ("/accessibility", "/privacy"):
        page = check_page(client.get(path))
        menu = [a["href"] for a in page.select(".language-menu a")]
        assert menu == [f"{path}?lang={code}" for code in LANGUAGES]
        display = page.find("a", string="文字の大きさと色")["href"]
        assert display == f"/display?next={path}?"


def test_the_display_link_of_each_page_is_its_own(app, client):
    """The footer's link is kept per page address (decision 0095): each page and query its own,
    as `url_for` builds it."""
    from flask import request, url_for

    for path in ("/accessibility", "/privacy", "/accessibility?step=2", "/privacy"):
        page = check_page(client.get(path))
        display = page.find("a", string="文字の大きさと色")["href"]
        with app.test_request_context(path):
            expected = url_for("pages.display_settings", next=request.full_path)
        assert display == expected
        assert path.split("?")[0] in display


def test_a_context_kept_past_its_request_takes_that_requests_language(app):
    """A rendering's key is kept on its context for its own request only (decision 0095): a
    context used again in a later request (an imported template's module) keys its pieces by
    the later request's language."""
    template = app.jinja_env.from_string(
        "{% call(slot) layout_fragment('test_piece') %}{{ _('ログイン') }}{% endcall %}"
    )
    context = template.new_context({})
    shown = []
    for lang in ("ja", "en", "ja"):
        with app.test_request_context(f"/?lang={lang}"):
            from flask import session

            session["lang"] = lang
            shown.append("".join(template.root_render_func(context)))
    assert shown[0] == shown[2] == "ログイン"
    assert shown[1] != "ログイン"


def test_a_new_catalog_renders_the_pieces_again(app, client):
    check_page(client.get("/"))
    catalog = app.extensions["catalog"]
    renamed = catalog.model_copy(update={"city": catalog.city.model_copy(update={"name": "新市"})})
    app.extensions["catalog"] = renamed
    try:
        page = check_page(client.get("/"))
        assert header(page).select_one(".site-header__home").get_text().startswith("新市")
        assert "新市" in page.select_one(".site-footer .postal-address").get_text()
    finally:
        app.extensions["catalog"] = catalog


def test_a_piece_without_a_value_for_its_slot_is_refused():
    try:
        layout._split("a\x00csrf\x00b", {})
    except RuntimeError:
        return
    raise AssertionError("a slot without a value was accepted")


def test_drafts_of_one_procedure_share_one_parsed_snapshot(app):
    for _ in range(2):
        client = app.test_client()
        client.post(f"{JUMINHYO}/start", data={"csrf_token": csrf_token(client.get(JUMINHYO).text)})
    with app.app_context():
        first, second = db.session.scalars(select(Submission)).all()
        if db.engine.dialect.name == "sqlite":  # psycopg parses JSON itself: one each
            assert first.snapshot is second.snapshot
        else:
            assert first.snapshot == second.snapshot


def test_the_limiter_middleware_runs_when_a_limit_could_apply(app, monkeypatch):
    from portal.extensions import limiter
    from portal.rate_limits import middleware_could_count

    hooks = app.before_request_funcs[None]
    assert limiter._check_request_limit not in hooks
    assert any(f.__name__ == "check_request_limit" for f in hooks)
    assert not middleware_could_count(limiter)  # every limit of the portal is on a view
    manager = limiter.limit_manager
    for owner, attribute, value in (
        (manager, "_application_limits", ["an application limit"]),
        (manager, "_default_limits", ["a default limit"]),
        (manager, "_blueprint_limits", {"pages": ["a blueprint limit"]}),
        (manager, "_endpoint_hints", {"pages.home": ["a hinted callable"]}),
        (limiter, "_meta_limits", ["a meta limit"]),
    ):
        with monkeypatch.context() as patch:
            patch.setattr(owner, attribute, value)
            assert middleware_could_count(limiter), attribute
    with monkeypatch.context() as patch:
        patch.setattr(limiter, "_storage_dead", True)
        patch.setattr(limiter, "_in_memory_fallback", [["a fallback limit"]])
        assert middleware_could_count(limiter)
