"""Every request of a registered kiosk under the kiosk's rules, and the kiosk frame on the
engine's pages (docs/decisions/0048-kiosk-mode.md).

A browser is a kiosk only while it holds a registered, unrevoked kiosk cookie; typing a URL
never makes one. For such a browser, before any page (staff pages aside: an administrator may
sign in on the terminal to re-register it):

- a kiosk out of service (a wipe failed) serves only the out-of-service page (in the language
  its buttons choose);
- every open visit of the kiosk that is not this browser's live visit, or that has been idle
  past the reset, is wiped first (a stale page of an ended visit, a Back press after the reset,
  the first request after a power cut): if a wipe fails, the out-of-service page;
- without a live visit, anything but the start screen redirects to it;
- in a visit, only the kiosk's pages, the engine's draft pages and the card login are served
  (no status links, downloads, resume codes, "my applications", payments or bookings): anything
  else redirects to the visit's menu; each request counts as activity.

After the page, the drafts the visit's browser holds that were started during the visit are
recorded, to be wiped with it. The context processor gives the layouts `kiosk_frame` (place,
seconds left, the countdown's settings) during a visit; the engine's templates know only that
variable, never this package.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from portal import clock, i18n
from portal.config import ConfigError
from portal.db import db
from portal.identity.sessions import is_staff_path
from portal.kiosk import service
from portal.kiosk.models import Kiosk, KioskVisit

# Served whatever the kiosk's state (no page, or nothing of a visit).
FREE_ENDPOINTS = {"static", "pages.healthz"}
# Served without a visit: the start screen and starting a visit.
NO_VISIT_ENDPOINTS = {"kiosk.start", "kiosk.begin", "kiosk.call_staff", "kiosk.print_css"}
# Served in a visit, besides the kiosk's own pages and the mock card service's screens.
VISIT_ENDPOINTS = {
    "submissions.start",
    "submissions.begin",
    "submissions.who",
    "submissions.step",
    "submissions.check",
    "submissions.done",
    "identity.login",
    "identity.start_login",
    "identity.callback",
    "pages.display_settings",  # 文字の大きさと色, kept in the visit's session
    # The mock payment service's checkout (same origin) for a certificate's fee.
    "mock_pay.checkout",
    "mock_pay.card",
    "mock_pay.three_ds",
    "mock_pay.qr",
    "mock_pay.qr_app",
    "mock_pay.number",
    "mock_pay.back",
}
VISIT_BLUEPRINTS = {"kiosk", "mock_jpki"}
# Asking how long is left is not activity.
UNTOUCHED_ENDPOINTS = {"kiosk.time_left", "kiosk.print_css"}


def cookie_name() -> str:
    # __Host-: https only, this host, path / (production). SameSite=Lax, not Strict: coming back
    # from the card service (another site, in production) must still find the terminal a kiosk.
    return "__Host-kiosk" if current_app.config["PORTAL_ENV"] == "production" else "portal_kiosk"


def set_kiosk_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        cookie_name(),
        token,
        max_age=5 * 365 * 24 * 3600,  # until revoked: a terminal is registered once
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
        path="/",
    )


def _settings() -> dict[str, Any]:
    config = current_app.config
    return {
        "warning": config["KIOSK_IDLE_WARNING_SECONDS"],
        "reset": config["KIOSK_IDLE_RESET_SECONDS"],
    }


def _files():
    return current_app.extensions["submission_services"].files


def out_of_service() -> Response:
    """The only page of a kiosk out of service. Its language buttons (decision 0092) are a GET
    of the same page with `lang`: the choice is kept in the terminal's session as on any page
    and the page shown again in it. Nothing else is served or begun; the session is cleared
    when the kiosk is back in service (no live visit), so the next visitor starts in Japanese."""
    if request.method == "GET" and "lang" in request.args:
        switched: Response = i18n.switch_language()
        return switched
    html = render_template("kiosk/out_of_service.html")
    return Response(html, status=503, mimetype="text/html")


def current_kiosk() -> Kiosk | None:
    kiosk: Kiosk | None = g.get("kiosk")
    return kiosk


def current_visit() -> KioskVisit | None:
    visit: KioskVisit | None = g.get("kiosk_visit")
    return visit


def _before_request() -> Any:
    token = request.cookies.get(cookie_name())
    if not token:
        return None  # most requests: not a kiosk
    endpoint = request.endpoint
    if endpoint is None or endpoint in FREE_ENDPOINTS or is_staff_path(request.path):
        return None
    db.will_write()  # a kiosk's request may wipe, touch or record: take SQLite's lock up front
    kiosk = service.by_token(db.session, token)
    if kiosk is None:
        g.kiosk_cookie_revoked = True  # an ordinary browser from now on
        if session.get(service.SESSION_KEY):
            session.clear()  # keeping nothing of its last visit (the duty wipes that visit)
        return None
    g.kiosk = kiosk
    now = clock.now()
    if service.seen(db.session, kiosk, now):
        db.session.commit()
    if kiosk.out_of_service_since is not None:
        return out_of_service()
    settings = _settings()
    held = session.get(service.SESSION_KEY)
    live = None
    for visit in service.open_visits(db.session, kiosk.id):
        if visit.public_id == held and not service.is_idle(visit, now, settings["reset"]):
            live = visit
            continue
        reason = "idle" if service.is_idle(visit, now, settings["reset"]) else "left"
        if not service.wipe_or_alert(db.session, _files(), visit.id, now, reason):
            return out_of_service()
    if live is None:
        if set(session.keys()) - {"csrf_token"}:
            session.clear()  # nothing of an ended visit serves anyone (the row is gone too)
        if endpoint in NO_VISIT_ENDPOINTS:
            return None
        return redirect(url_for("kiosk.start"), 303)
    g.kiosk_visit = live
    g.autocomplete_off = True  # no field of a visit offers the browser's remembered entries
    if endpoint not in VISIT_ENDPOINTS and request.blueprint not in VISIT_BLUEPRINTS:
        return redirect(url_for("kiosk.menu"), 303)
    if endpoint not in UNTOUCHED_ENDPOINTS:
        service.touch(db.session, live, now)
        db.session.commit()
    return None


def _after_request(response: Response) -> Response:
    if g.get("kiosk_cookie_revoked"):
        response.delete_cookie(cookie_name(), path="/")
    visit, kiosk = current_visit(), current_kiosk()
    if visit is None or kiosk is None:
        return response
    tokens = [t for t in dict(session.get("drafts", {})).values() if isinstance(t, str)]
    if tokens:
        db.discard_uncommitted()
        db.will_write()
        if service.record_drafts(db.session, visit, kiosk, tokens):
            db.session.commit()
    # A kiosk page must never be kept or shown again from the browser's cache or history.
    response.headers["Cache-Control"] = "no-store"
    return response


def _context() -> dict[str, Any]:
    visit, kiosk = current_visit(), current_kiosk()
    if visit is None or kiosk is None:
        return {"kiosk_frame": None}
    settings = _settings()
    return {
        "kiosk_frame": {
            "place": kiosk.place,
            "seconds_left": service.seconds_left(visit, clock.now(), settings["reset"]),
            "warning_seconds": settings["reset"] - settings["warning"],
        }
    }


def check_settings(app: Flask) -> None:
    """The procedures a kiosk offers exist and can be applied for online."""
    catalog = app.extensions["catalog"]
    for procedure_id in app.config["KIOSK_PROCEDURES"]:
        procedure = catalog.procedure(procedure_id)
        if procedure is None or procedure.channel == "counter":
            raise ConfigError(
                f"PORTAL_KIOSK_PROCEDURES: {procedure_id!r} is not a procedure of the catalog "
                "that can be applied for online"
            )


def _terminal_request() -> bool:
    return bool(request.cookies.get(cookie_name()))


def init_app(app: Flask) -> None:
    check_settings(app)
    i18n.kiosk_terminal = _terminal_request  # the language is chosen on the start screen
    # The kiosk's rules come before the CSRF check: a form left on screen from an ended visit
    # goes to the start screen, not to an error page with the site's links.
    funcs = app.before_request_funcs.setdefault(None, [])
    names = [getattr(f, "__name__", "") for f in funcs]
    funcs.insert(
        names.index("csrf_protect") if "csrf_protect" in names else len(funcs), _before_request
    )
    app.after_request(_after_request)
    app.context_processor(_context)
