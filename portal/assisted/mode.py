"""Every request of a browser in an assisted session under the session's rules, and the banner
on every page (docs/decisions/0054-assisted-sessions.md).

The browser's server-side session carries `assist` (the consent's public id) and `assist_turn`
(who holds the device: "helper" or "resident"). Before any page but the staff pages:

- logging out (the header's ログアウト) ends the consent with the login;
- a consent that ended (the resident pressed 終了 here or revoked it from their own phone),
  ran out (the test clock counts) or whose helper was revoked drops the resident from this
  browser at once: the session keeps only the helper's own sign-in; the page says so;
- in the helper's turn, a step with a field the catalog marks `sensitive` is not shown: the
  hand-over page 「ここからはご本人が入力してください」 comes first; so does submitting an
  application that the resident signs (the signature password); a procedure outside the
  consent's scope and "my applications" answer 404;
- in the resident's turn, saving a sensitive step leads to 「お手伝いの方に端末をお渡しください」;
- every page of the resident's data the session's browser opens (and the status link of what
  it files) is kept on the session, as a digest of its path; after the end, each answers 404
  in that browser and wherever the helper is signed in as a helper (`closed`).

The context processor gives the layout `assist_frame` (the helper's name and organisation, the
end time, whose turn it is) during a session; the engine's templates never see this package.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, flash, g, redirect, request, session, url_for

from portal import clock, furigana
from portal.assisted import service
from portal.assisted.models import AssistHelper, AssistSession
from portal.db import db
from portal.i18n import translate
from portal.identity.sessions import is_staff_path

SESSION_KEY = "assist"
TURN_KEY = "assist_turn"
HELPER_KEY = "assist_helper"  # the helper's own, recognised card login (their public id)
STARTING_KEY = "assist_starting"  # 「お手伝いを始める」 pressed, the resident's login to come
PATHS_KEY = "assist_paths"  # the paths this live session touched (this browser's session only)
CLOSED_KEY = "assist_closed"  # digests of the paths of the sessions that ended in this browser
ENDED_NOTICE_KEY = "assist_ended_notice"
ENDED_NOTICE = "お手伝いは終了しました。ご本人の情報は、この端末から消去しました。"
MAX_TOUCHED = 500  # paths kept per session (a session lasts a day at most)

FREE_ENDPOINTS = {"static", "health.healthz", "health.readyz"}
# Never in the helper's turn: the resident's own list of applications.
HIDDEN_FROM_HELPER = {"submissions.my_applications"}
# The card service's pages (the demo's mock card service, in this app): where the PIN or the
# signature password is typed and the tries left are shown. Only ever in the resident's turn.
CARD_SERVICE_ENDPOINTS = {"mock_jpki.authorize"}
# Pages that show nobody's data: not kept on the session, never closed to the helper after it.
PUBLIC_BLUEPRINTS = {
    "pages",
    "identity",
    "session_timeout",
    "assisted",
    "mock_jpki",
    "api",
    "health",
}
PUBLIC_ENDPOINTS = {"static", "submissions.start", "life_events.index", "submissions.resume"}


def current() -> AssistSession | None:
    assist: AssistSession | None = g.get("assist")
    return assist


def helpers_turn() -> bool:
    return current() is not None and session.get(TURN_KEY) != "resident"


def digest(path: str) -> str:
    return hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()


def _prefixes(path: str) -> list[str]:
    """The path and each of its parents (/status/<t>/receipt → /status/<t>/receipt, /status/<t>,
    /status): a status link kept on the session closes the pages under it too."""
    parts = path.rstrip("/").split("/")
    return ["/".join(parts[:n]) or "/" for n in range(len(parts), 1, -1)]


def keeps_data(endpoint: str | None) -> bool:
    """Whether a page may show a resident's data (what a session keeps and closes)."""
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return False
    return endpoint.partition(".")[0] not in PUBLIC_BLUEPRINTS


def touch(assist: AssistSession, path: str) -> None:
    """Keep a path on the session (its digest in the row, the path in this browser's session)."""
    paths = list(session.get(PATHS_KEY, []))
    if path not in paths and len(paths) < MAX_TOUCHED:
        session[PATHS_KEY] = [*paths, path]
    kept = digest(path)
    if kept not in assist.touched and len(assist.touched) < MAX_TOUCHED:
        assist.touched = [*assist.touched, kept]  # a new list: the JSON column sees the change


def touched_paths() -> list[str]:
    """The paths the live session of this browser touched so far."""
    return list(session.get(PATHS_KEY, []))


# The display the helper chose before 「お手伝いを始める」 (a language, ふりがな): the resident
# about to be helped is the one it was chosen for, so the hand-over and consent pages keep it.
DISPLAY_KEYS = ("lang", furigana.SESSION_KEY)


def drop_resident(keep_display: bool = False) -> None:
    """Forget everything of the resident in this browser's session; keep only the helper's own
    sign-in and the digests of what the ended session touched (a new session token: nothing
    copied from before works). `keep_display`: the language and ふりがな too, when a session
    starts (never when one ends: the next resident's page starts in Japanese)."""
    display = {key: session[key] for key in DISPLAY_KEYS if keep_display and key in session}
    helper = session.get(HELPER_KEY)
    closed = set(session.get(CLOSED_KEY, []))
    closed.update(digest(p) for p in session.get(PATHS_KEY, []))
    ended = service.by_public_id(db.session, session.get(SESSION_KEY, ""))
    if ended is not None:
        closed.update(ended.touched)
    session.clear()
    if helper:
        session[HELPER_KEY] = helper
    if closed:
        session[CLOSED_KEY] = sorted(closed)
    session.update(display)
    session.rotate()  # type: ignore[attr-defined]  # our ServerSession (identity.sessions)


def _practising(endpoint: str | None) -> bool:
    """A procedure's own pages in a practice class (portal.assisted.practice): the same paths
    as a resident's draft pages, but this browser's practice draft is behind them. A status
    link of an ended session stays closed."""
    args = request.view_args or {}
    return bool(session.get("practice")) and "procedure_id" in args and "token" not in args


def closed(path: str) -> bool:
    """Whether the path belongs to a session that ended, for this browser (a helper's, or the
    shared device the session ran on): checked only when no session is live and no resident is
    signed in here."""
    wanted = {digest(p) for p in _prefixes(path)}
    if wanted & set(session.get(CLOSED_KEY, [])):
        return True
    helper_id = session.get(HELPER_KEY)
    if not helper_id:
        return False
    return service.touched_by_helper(db.session, helper_id, wanted, clock.now())


def _catalog():
    return current_app.extensions["catalog"]


def sensitive_step(procedure_id: str | None, step_id: str | None) -> bool:
    procedure = _catalog().procedure(procedure_id) if procedure_id else None
    step = procedure.step(step_id) if procedure and step_id else None
    return bool(step and any(f.sensitive for f in step.fields))


def in_scope(assist: AssistSession, procedure_id: str) -> bool:
    if assist.scope_kind == "procedure":
        return procedure_id == assist.scope_id
    event = next((e for e in _catalog().life_events if e.id == assist.scope_id), None)
    return event is not None and any(item.procedure == procedure_id for item in event.items)


def _before_request() -> Any:
    data = session._get_current_object()  # type: ignore[attr-defined]
    if not (data.get(SESSION_KEY) or data.get(CLOSED_KEY) or data.get(HELPER_KEY)):
        return None  # most requests: nothing of assisted mode in this browser
    endpoint = request.endpoint
    if endpoint is None or endpoint in FREE_ENDPOINTS or is_staff_path(request.path):
        return None
    public_id = session.get(SESSION_KEY)
    if not public_id:
        helpers_browser = session.get(CLOSED_KEY) or session.get(HELPER_KEY)
        helpers = helpers_browser and not session.get("user")
        if helpers and keeps_data(endpoint) and not _practising(endpoint) and closed(request.path):
            abort(404)  # a page of a session that ended: nothing of it for the helper
        return None
    db.will_write()  # the consent may end here (audited); the paths it touches are kept
    assist = service.live(db.session, public_id, clock.now())
    if assist is None:
        db.session.commit()
        drop_resident()
        if keeps_data(endpoint) and closed(request.path):
            session[ENDED_NOTICE_KEY] = True  # said on the helper's page, not on the 404 page
            abort(404)
        flash(translate(ENDED_NOTICE))
        return redirect(url_for("assisted.home"), 303)
    if endpoint == "identity.logout" and request.method == "POST":
        # The resident logs out: the consent ends with the login; the helper's sign-in stays.
        service.end(
            db.session,
            assist,
            reason="resident",
            actor=service.resident_actor(assist.resident_sub),
            now=clock.now(),
        )
        db.session.commit()
        drop_resident()
        flash(translate("ご本人はログアウトしました。お手伝いは終了しました。"))
        return redirect(url_for("assisted.home"), 303)
    g.assist = assist
    if request.method == "GET" and keeps_data(endpoint):
        touch(assist, request.path)
        db.session.commit()
    args = request.view_args or {}
    procedure_id = args.get("procedure_id")
    if procedure_id and not in_scope(assist, procedure_id):
        abort(404)
    if session.get(TURN_KEY) == "resident":
        return None
    if endpoint in HIDDEN_FROM_HELPER:
        abort(404)
    here = request.full_path if request.query_string else request.path
    if endpoint in CARD_SERVICE_ENDPOINTS:
        # The PIN and how many tries are left are the resident's: hand over first.
        return redirect(url_for("assisted.resident_turn", next=here), 303)
    if endpoint == "submissions.step" and sensitive_step(procedure_id, args.get("step_id")):
        return redirect(url_for("assisted.resident_turn", next=here), 303)
    if endpoint == "submissions.check" and request.method == "POST":
        procedure = _catalog().procedure(procedure_id)
        if procedure is not None and procedure.identity_level == "signature":
            # The signature password is the resident's: hand over before the card service.
            return redirect(url_for("assisted.resident_turn", next=request.path), 303)
    return None


def _after_request(response: Response) -> Response:
    assist = current()
    if assist is None or session.get(TURN_KEY) != "resident":
        return response
    args = request.view_args or {}
    if (
        request.endpoint == "submissions.step"
        and request.method == "POST"
        and response.status_code in (302, 303)
        and sensitive_step(args.get("procedure_id"), args.get("step_id"))
    ):
        # The resident saved their secret: the device goes back to the helper, masked from now.
        target = urlsplit(response.headers["Location"])
        next_path = target.path + (f"?{target.query}" if target.query else "")
        response.headers["Location"] = url_for("assisted.give_back", next=next_path)
    return response


def _context() -> dict[str, Any]:
    assist = current()
    if assist is None:
        return {"assist_frame": None}
    helper = db.session.get(AssistHelper, assist.helper_id)
    return {
        "assist_frame": {
            "helper_name": helper.name if helper else "",
            "organisation": helper.organisation if helper else "",
            "until": assist.expires_at,
            "residents_turn": session.get(TURN_KEY) == "resident",
            "next": request.full_path if request.query_string else request.path,
        }
    }


def init_app(app: Flask) -> None:
    # Before the CSRF check: a form left on screen after the consent ended goes to the helper's
    # page with the notice, not to an error page.
    funcs = app.before_request_funcs.setdefault(None, [])
    names = [getattr(f, "__name__", "") for f in funcs]
    funcs.insert(
        names.index("csrf_protect") if "csrf_protect" in names else len(funcs), _before_request
    )
    app.after_request(_after_request)
    app.context_processor(_context)
