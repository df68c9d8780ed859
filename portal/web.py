"""Cross-cutting web behaviour: security headers, Japanese error pages, template globals.

Every response gets a strict Content-Security-Policy (no inline scripts or styles, no external
sources, no framing), `Referrer-Policy: same-origin`, `X-Content-Type-Options: nosniff`,
`X-Frame-Options`, `Permissions-Policy` and the cross-origin isolation headers, and in production
`Strict-Transport-Security`; pages are not cached, because they may show personal data. Errors
never show a stack trace.
"""

from __future__ import annotations

import hmac
import json
import logging
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    g,
    render_template,
    request,
    session,
)
from flask_wtf import csrf as flask_wtf_csrf
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.exceptions import HTTPException

from portal import clock, input_policy, layout
from portal.catalog.fields import markup as field_markup
from portal.identity.sessions import session_seconds_left
from portal.pages import display

log = logging.getLogger(__name__)

CSP_DIRECTIVES = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
]
CSP = "; ".join(CSP_DIRECTIVES)


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else None


def content_security_policy(config) -> str:
    """CSP with form-action naming, besides the portal, the card service's and the payment
    provider's origins where they are elsewhere: starting a login, a signature or a payment is
    a form POST answered with a redirect there, and browsers apply form-action to the redirects
    too. PORTAL_CSP_FORM_ACTION adds origins the configured addresses do not show (a provider
    whose hosted payment page is on another host than its API)."""
    own = _origin(config.get("PUBLIC_URL"))
    targets = ["'self'"]
    for key in ("JPKI_DISCOVERY_URL", "PAYMENT_API_URL"):
        origin = _origin(config.get(key))
        if origin and origin != own and origin not in targets:
            targets.append(origin)
    for extra in config.get("CSP_FORM_ACTION", []):
        origin = _origin(extra)
        if origin and origin not in targets:
            targets.append(origin)
    return "; ".join(
        "form-action " + " ".join(targets) if d.startswith("form-action") else d
        for d in CSP_DIRECTIVES
    )


ERROR_PAGES = {
    400: ("リクエストを処理できませんでした", "入力内容を確認して、もう一度お試しください。"),
    404: (
        "ページが見つかりません",
        "お探しのページは見つかりませんでした。アドレスに誤りがないか確認してください。"
        "手続の一覧から探すこともできます。",
    ),
    405: ("この操作はできません", "ページを開き直して、もう一度お試しください。"),
    413: (
        "送信したデータが大きすぎます",
        "送信できるデータの大きさには上限があります。ファイルを小さくするか、"
        "数を減らしてもう一度お試しください。",
    ),
    429: ("操作が続けて行われました", "しばらく待ってから、もう一度お試しください。"),
    503: (
        "ただいまご利用いただけません",
        "サービスが一時的に利用できません。時間をおいてもう一度お試しください。"
        "入力中の内容は保存されています。",
    ),
    500: (
        "システムで問題が発生しました",
        "申し訳ありません。時間をおいてもう一度お試しください。入力中の内容は保存されています。",
    ),
}


# Login attempts (starting a login, failed callbacks) have their own limits and their own words.
LOGIN_ENDPOINTS = {"identity.start_login", "identity.callback"}
LOGIN_LIMITED = (
    "ログインの試行回数が上限に達しました",
    "安全のため、ログインを続けて試すことはできません。"
    "しばらく（15分ほど）たってからもう一度お試しください。入力中の申請の内容は保存されています。",
)


# HSTS in production (always https there): two years, subdomains included. Not in development,
# where the portal is served over plain http on localhost.
HSTS = "max-age=63072000; includeSubDomains"


SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    # No other site's window keeps a handle on ours (the card service and the payment provider
    # are reached by navigating, never in a popup), and no other site embeds our responses.
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)


def _security_headers(response: Response) -> Response:
    # The headers the response has, looked through once: each `headers[...] = ` or setdefault
    # would look through them again (decision 0061). A header already there is replaced where
    # it stands, as `headers[...] =` does; one not there is added at the end.
    headers = response.headers
    present = set(headers.keys(lower=True))
    config = current_app.config

    def put(name: str, value: str) -> None:
        if name.lower() in present:
            headers.set(name, value)
        else:
            headers.add(name, value)

    # A view may set a stricter one.
    if "content-security-policy" not in present:
        headers.add("Content-Security-Policy", config["CSP"])
    if "referrer-policy" not in present:
        headers.add("Referrer-Policy", "same-origin")
    for name, value in SECURITY_HEADERS:
        put(name, value)
    if config["PORTAL_ENV"] == "production":
        put("Strict-Transport-Security", HSTS)
    if not request.path.startswith("/static/"):
        put("Cache-Control", "no-store")
    return response


def _refused_input_shown_safely(response: Response) -> Response:
    """An answer to refused input (a 4xx page of the input guard, or a form shown again with its
    errors and what was typed) shows that input back; characters HTML allows in no document
    (a NUL typed into a field) are shown as U+FFFD, so the page stays valid markup. Only those
    answers pay for the scan (4xx pages and pages answering a POST): input that was accepted
    holds no such character (the policy), so no other page can show one."""
    if (
        (response.status_code >= 400 or request.method == "POST")
        and response.mimetype == "text/html"
        and not response.direct_passthrough
        and not response.is_streamed
    ):
        body = response.get_data(as_text=True)
        shown = input_policy.shown_in_html(body)
        if shown != body:
            response.set_data(shown)
    return response


def render_error(code: int, title: str | None = None, message: str | None = None) -> Response:
    from portal.i18n import translate

    default_title, default_message = ERROR_PAGES.get(code, ERROR_PAGES[500])
    html = render_template(
        "errors/error.html",
        code=code,
        heading=translate(title or default_title),
        message=translate(message or default_message),
    )
    return Response(html, status=code, mimetype="text/html")


def _handle_http_error(error: HTTPException) -> Response:
    code = error.code or 500
    if code == 429 and request.endpoint in LOGIN_ENDPOINTS:
        return render_error(429, *LOGIN_LIMITED)
    return render_error(code if code in ERROR_PAGES else 400)


def _handle_csrf_error(_error: CSRFError) -> Response:
    from portal.identity.sessions import is_staff_path

    signing_in = request.endpoint in {"staff.login", "staff.code"}
    if is_staff_path(request.path) and not session.get("staff") and not signing_in:
        return render_error(404)  # staff pages do not even confirm they exist
    if request.endpoint == "submissions.step" and getattr(session, "expired_sub", None):
        # A login ran out while a step was being filled in: keep what was posted for the same
        # person, who continues after logging in again.
        from portal.submissions.views import keep_unsent_step

        return keep_unsent_step()
    return render_error(
        400,
        "ページの有効期限が切れました",
        "安全のため、しばらく操作がなかったページからは送信できません。"
        "前のページに戻り、ページを読み込み直してから、もう一度送信してください。",
    )


def _handle_unexpected(error: Exception) -> Response:
    # The exception type only: a message may carry personal data.
    log.error("unhandled %s on %s %s", type(error).__name__, request.method, request.endpoint)
    return render_error(500)


# Forms that apply the character policy themselves, with a message beside the field that keeps
# what was entered: the catalog's (FieldType.read_input in portal/catalog/fields/base.py) and
# the free-text forms of the booking and staff pages. On every other form (choices, codes, ids)
# such characters can only come from a tampered request, and get the 400 page.
FIELD_CHECKED_FORMS = {
    "submissions.step",
    "submissions.correct",
    "submissions.who",
    "bundles.member",
    "bundles.shared",
    "staff.counter_step",
    "life_events.screening",
    "appointments.day",
    "staff.appointments_closures",
    "staff.payment_refund",
    "staff.payments_counter",
    "staff.reveal",
    "staff.act",
    "staff.ask",
}
# Machine endpoints answer JSON (or plain text), never a page.
MACHINE_PREFIXES = ("/api/", "/mock-pay/api/", "/payments/webhooks/", "/mock-jpki/")

BAD_INPUT = (
    "入力内容に使用できない文字や長すぎる値が含まれています",
    "制御文字などの使用できない文字や、長すぎる値が含まれていたため、処理できませんでした。"
    "入力内容を確認して、もう一度お試しください。",
)


def _input_guard() -> Response | None:
    """The input policy (portal/input_policy.py) for the path, query string, headers and the
    limits every form shares, before any view reads them: a 400, never a 500 further on."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy look-up
    problem = input_policy.request_problem(req.path, req.args, req.headers)
    if problem is None and req.method == "POST" and req.mimetype in FORM_TYPES:
        form = req.form
        problem = input_policy.form_problem(form)
        # One search over every value (a line break, which the policy allows, between them).
        if (
            problem is None
            and req.endpoint not in FIELD_CHECKED_FORMS
            and input_policy.bad_characters("\n".join(v for _k, v in form.items(multi=True)))
        ):
            problem = "form characters"
    if problem is None:
        return None
    log.warning("input refused (%s) on %s %s", problem, request.method, request.endpoint)
    if request.path.startswith(MACHINE_PREFIXES):
        return Response(
            json.dumps({"error": "invalid_request", "message": problem}),
            status=400,
            mimetype="application/json",
        )
    return render_error(400, *BAD_INPUT)


FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


# The signed CSRF token of a session's forms, kept per session token (decision 0089). Flask-WTF
# signs the session's raw token again for every page (an HMAC key derivation and a signature, about
# a twentieth of a step page); with WTF_CSRF_TIME_LIMIT None the signature's timestamp is never
# checked, so the token Flask-WTF made for a raw token is as good on the next page. Keyed by the
# signing key too (a new SECRET_KEY makes new tokens); bounded, and holding only what the sessions'
# own rows hold. A posted token equal to the one kept for the session's raw token is valid without
# its signature checked again (`validate_csrf`, decision 0094).
_SIGNED_CSRF: dict[tuple[str | bytes, str], str] = {}
_SIGNED_CSRF_LIMIT = 4096


def _csrf_key(app: Flask) -> tuple[str, str | bytes | None]:
    """The session key of the raw token and the signing key, as Flask-WTF finds them."""
    config = app.config
    return (
        config.get("WTF_CSRF_FIELD_NAME", "csrf_token"),
        config.get("WTF_CSRF_SECRET_KEY", app.secret_key),
    )


def csrf_token() -> str:
    """The template global `csrf_token()`: Flask-WTF's `generate_csrf`, made once per session."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["WTF_CSRF_TIME_LIMIT"] is not None:
        return generate_csrf()  # the token's age counts: a fresh one for every page
    field, secret = _csrf_key(app)
    data = session._get_current_object()  # type: ignore[attr-defined]
    raw = data.get(field)
    signed = _SIGNED_CSRF.get((secret, raw)) if secret and isinstance(raw, str) else None
    if signed is None:
        # Kept only when Flask-WTF signs the session's raw token now: a token it made earlier
        # in the request (kept in `g`) may be for a raw token the session no longer holds.
        fresh = field not in g
        signed = generate_csrf()
        raw = data.get(field)
        if fresh and secret and isinstance(raw, str):
            if len(_SIGNED_CSRF) >= _SIGNED_CSRF_LIMIT:
                _SIGNED_CSRF.clear()
            _SIGNED_CSRF[(secret, raw)] = signed
    return signed


_flask_wtf_validate_csrf = flask_wtf_csrf.validate_csrf


def validate_csrf(
    data: object,
    secret_key: str | bytes | None = None,
    time_limit: int | None = None,
    token_key: str | None = None,
) -> None:
    """Flask-WTF's `validate_csrf`, put in its place in `flask_wtf.csrf`, where
    `CSRFProtect.protect()` finds it (decision 0094). A posted token that equals the token
    Flask-WTF signed, in this process, for the raw token this session holds, with the signing
    key configured now, is the same token Flask-WTF's check would load and find equal to the
    session's (no time limit: its age is not checked); any other token, and every call with
    arguments of its own (a FlaskForm's), goes to Flask-WTF's check. The rest of `protect()`
    (the methods checked, the https referrer check, `g.csrf_valid`) is Flask-WTF's."""
    if (
        secret_key is None
        and time_limit is None
        and token_key is None
        and isinstance(data, str)
        and data
    ):
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if app.config["WTF_CSRF_TIME_LIMIT"] is None:
            field, secret = _csrf_key(app)
            raw = session.get(field)
            signed = _SIGNED_CSRF.get((secret, raw)) if secret and isinstance(raw, str) else None
            if signed is not None and hmac.compare_digest(signed.encode(), data.encode()):
                return
    _flask_wtf_validate_csrf(data, secret_key, time_limit, token_key)


def init_app(app: Flask) -> None:
    app.config["CSP"] = content_security_policy(app.config)
    app.jinja_env.globals["csrf_token"] = csrf_token  # in place of Flask-WTF's (decision 0089)
    flask_wtf_csrf.validate_csrf = validate_csrf  # type: ignore[assignment]  # (decision 0094)
    app.jinja_env.globals.update(field_markup.GLOBALS)  # the field macros' small pieces
    app.jinja_env.globals.update(layout.GLOBALS)  # cached pieces of the page layout (0061)
    app.jinja_env.template_class = layout.Template
    # First of all before_request functions: the language switch and every view come after it.
    app.before_request_funcs.setdefault(None, []).insert(0, _input_guard)
    app.after_request(_security_headers)
    app.after_request(_refused_input_shown_safely)
    app.register_error_handler(CSRFError, _handle_csrf_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    if not app.config.get("PROPAGATE_EXCEPTIONS"):
        app.register_error_handler(Exception, _handle_unexpected)

    @app.context_processor
    def _globals() -> dict:
        catalog = current_app.extensions["catalog"]
        now = clock.now()
        return {
            "city": catalog.city,
            "counters": {c.id: c for c in catalog.counters},
            "now_local": clock.to_local(now),
            # Real deployments show no demo banner; a demo with the mock card service says so.
            "demo_deployment": current_app.config["DEMO_DEPLOYMENT"],
            "mock_card_login": current_app.config["MOCK_JPKI_ENABLED"],
            "session_seconds_left": session_seconds_left(now),
            "display_classes": display.html_classes(),
            # Over Flask-WTF's own context processor's `csrf_token` (this one runs after it).
            "csrf_token": csrf_token,
        }

    @app.template_filter("yen")
    def _yen(amount: int | None) -> str:
        from portal.i18n import translate

        return "" if amount is None else translate("%(amount)s円", amount=f"{amount:,}")

    @app.template_filter("long_date")
    def _long_date(value) -> str:
        from portal.i18n import current_language, local_date

        return local_date(value, current_language())

    @app.template_filter("local_datetime")
    def _local_datetime(value) -> str:
        from portal.i18n import current_language, local_datetime

        return local_datetime(clock.to_local(value), current_language())
