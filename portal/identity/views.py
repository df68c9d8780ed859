"""Login with the My Number card (OpenID Connect, through Authlib's client) and logout.

The provider is found by discovery; Authlib keeps state, nonce and the PKCE verifier in the
(server-side) session and checks the ID token's signature, issuer, audience, expiry and nonce; we
also require the `acr` we asked for. At login the session gets a new token; at logout the
session is deleted on the server, so a copied cookie no longer works. Every way a login can fail
ends on a Japanese page that says what to do, never a 500.
"""

from __future__ import annotations

from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from requests.exceptions import RequestException

bp = Blueprint("identity", __name__)

FAILURES = {
    "access_denied": (
        "ログインを取りやめました",
        "本人確認が取りやめられたため、ログインしていません。",
    ),
    "card_locked": (
        "カードがロックされています",
        "暗証番号を続けて間違えたため、カードがロックされています。市区町村の窓口で暗証番号を初期化してください。",
    ),
    "certificate_expired": (
        "電子証明書の有効期限が切れています",
        "市区町村の窓口で電子証明書を更新すると、ログインできるようになります。",
    ),
    "state": (
        "ログインの有効期限が切れました",
        "ログインの手続に時間がかかったか、別の画面でログインしたため、続けられませんでした。もう一度ログインしてください。",
    ),
    "unreachable": (
        "本人確認サービスにつながりません",
        "マイナンバーカードの本人確認サービスに接続できませんでした。時間をおいてもう一度お試しください。",
    ),
    "invalid": (
        "ログインできませんでした",
        "本人確認の結果を確かめられませんでした。もう一度ログインしてください。",
    ),
}


def _client():
    return current_app.extensions["jpki_oauth"].jpki


def _failure(kind: str, status: int = 400):
    heading, message = FAILURES[kind]
    return render_template("identity/failed.html", heading=heading, message=message), status


@bp.get("/login")
def login():
    return render_template("identity/login.html", next_url=_safe_next(request.args.get("next")))


@bp.post("/login")
def start_login():
    session["login_next"] = _safe_next(request.form.get("next"))
    try:
        return _client().authorize_redirect(
            url_for("identity.callback", _external=True), acr_values="aal3"
        )
    except RequestException:
        return _failure("unreachable", 503)


@bp.get("/login/callback")
def callback():
    error = request.args.get("error")
    if error:
        reason = request.args.get("error_description", "")
        return _failure(reason if reason in FAILURES else "access_denied")
    try:
        token = _client().authorize_access_token()
    except MismatchingStateError:
        return _failure("state")
    except RequestException:
        return _failure("unreachable", 503)
    except (OAuthError, ValueError):
        return _failure("invalid")
    claims = token.get("userinfo") or {}
    if claims.get("acr") != "aal3":
        return _failure("invalid")
    next_url = session.pop("login_next", None) or url_for("pages.home")
    session["user"] = {"sub": claims["sub"], "name": claims.get("name", ""), "provider": "jpki"}
    session.rotate()
    return redirect(next_url)


@bp.post("/logout")
def logout():
    session.end()
    return render_template("identity/logged_out.html")


def _safe_next(value: str | None) -> str | None:
    """Only paths on this site (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return None


def init_app(app) -> None:
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    oauth.register(
        "jpki",
        client_id=app.config["JPKI_CLIENT_ID"],
        client_secret=app.config["JPKI_CLIENT_SECRET"],
        server_metadata_url=app.config["JPKI_DISCOVERY_URL"],
        client_kwargs={
            "scope": "openid name address birthdate gender",
            "code_challenge_method": "S256",
            "timeout": 10,
        },
    )
    app.extensions["jpki_oauth"] = oauth
    app.register_blueprint(bp)
