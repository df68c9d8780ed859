"""How long a signed-in session has left, and extending it (WCAG 2.2.1 Timing Adjustable).

`session-timeout.js` warns two minutes before a signed-in session ends for want of activity. Before
warning it asks `GET /session/time-left`, which answers without counting as activity, so a
resident busy in another tab is not warned for nothing. 「ログインを延長する」 posts to
`POST /session/extend` (CSRF token required), which counts as activity and answers the new time
left. Both answer JSON; the extend form posted without JavaScript redirects back instead. The
12-hour absolute limit cannot be extended: `extendable` says whether extending gives more time.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, request, session, url_for

from portal import clock
from portal.identity.sessions import is_staff_path
from portal.urls import safe_path

bp = Blueprint("session_timeout", __name__, url_prefix="/session")


@bp.before_request
def _staff_only_under_staff():
    # Registered twice: /session for residents, /staff/session for staff, where anyone not
    # signed in as staff gets the 404 every staff page gives.
    if is_staff_path(request.path) and not session.get("staff"):
        abort(404)


def _time_left(now):
    seconds = session.seconds_left(now)
    if seconds is None:
        return jsonify(signed_in=False, seconds_left=0, extendable=False), 401
    return jsonify(signed_in=True, seconds_left=seconds, extendable=session.can_extend(now))


@bp.get("/time-left")
def time_left():
    session.leave_untouched()
    return _time_left(clock.now())


@bp.post("/extend")
def extend():
    now = clock.now()
    if session.get("user") or session.get("staff"):
        session.touch(now)
    wanted = request.accept_mimetypes.best_match(["application/json", "text/html"])
    if wanted == "text/html":
        # The form posted without JavaScript: back to the page (only paths on this site).
        home = url_for("staff.home" if session.get("staff") else "pages.home")
        return redirect(safe_path(request.form.get("next"), home), 303)
    return _time_left(now)
