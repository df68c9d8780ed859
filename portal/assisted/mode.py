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
- in the resident's turn, saving a sensitive step leads to 「お手伝いの方に端末をお渡しください」.

The context processor gives the layout `assist_frame` (the helper's name and organisation, the
end time, whose turn it is) during a session; the engine's templates never see this package.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, flash, g, redirect, request, session, url_for

from portal import clock
from portal.assisted import service
from portal.assisted.models import AssistHelper, AssistSession
from portal.db import db
from portal.identity.sessions import is_staff_path

SESSION_KEY = "assist"
TURN_KEY = "assist_turn"
HELPER_KEY = "assist_helper"  # the helper's own, recognised card login (their public id)
STARTING_KEY = "assist_starting"  # 「お手伝いを始める」 pressed, the resident's login to come

FREE_ENDPOINTS = {"static", "health.healthz", "health.readyz"}
# Never in the helper's turn: the resident's own list of applications.
HIDDEN_FROM_HELPER = {"submissions.my_applications"}


def current() -> AssistSession | None:
    assist: AssistSession | None = g.get("assist")
    return assist


def helpers_turn() -> bool:
    return current() is not None and session.get(TURN_KEY) != "resident"


def drop_resident() -> None:
    """Forget everything of the resident in this browser's session; keep only the helper's own
    sign-in (a new session token: nothing copied from before works)."""
    helper = session.get(HELPER_KEY)
    session.clear()
    if helper:
        session[HELPER_KEY] = helper
    session.rotate()  # type: ignore[attr-defined]  # our ServerSession (identity.sessions)


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
    endpoint = request.endpoint
    if endpoint is None or endpoint in FREE_ENDPOINTS or is_staff_path(request.path):
        return None
    public_id = session.get(SESSION_KEY)
    if not public_id:
        return None
    db.will_write()  # the consent may end here (audited)
    assist = service.live(db.session, public_id, clock.now())
    if assist is None:
        db.session.commit()
        drop_resident()
        flash("お手伝いは終了しました。ご本人の情報は、この端末から消去しました。")
        return redirect(url_for("assisted.home"), 303)
    if endpoint == "identity.logout" and request.method == "POST":
        # The resident logs out: the consent ends with the login (the logout deletes the session).
        service.end(
            db.session,
            assist,
            reason="resident",
            actor=service.resident_actor(assist.resident_sub),
            now=clock.now(),
        )
        db.session.commit()
        return None
    g.assist = assist
    args = request.view_args or {}
    procedure_id = args.get("procedure_id")
    if procedure_id and not in_scope(assist, procedure_id):
        abort(404)
    if session.get(TURN_KEY) == "resident":
        return None
    if endpoint in HIDDEN_FROM_HELPER:
        abort(404)
    here = request.full_path if request.query_string else request.path
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
