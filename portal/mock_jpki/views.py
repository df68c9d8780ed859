"""The mock provider's endpoints under /mock-jpki/: discovery, JWKS, the card-reader page
(choose a demo card, type the 4-digit PIN; three wrong PINs lock the card), token and userinfo.

The card-reader page stands in for the phone app: it is Japanese, works on a phone and with a
keyboard, lets people paste the PIN, and says what to do next when a card is locked or a
certificate has expired. PINs are compared in constant time and never logged.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import re
import secrets
import unicodedata

from authlib.common.urls import add_params_to_uri
from authlib.integrations.flask_oauth2 import current_token
from authlib.oauth2 import OAuth2Error
from cryptography.hazmat.primitives import serialization
from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request
from markupsafe import Markup, escape
from sqlalchemy import select, update

from portal import clock
from portal.db import db
from portal.extensions import csrf
from portal.i18n import translate
from portal.mock_jpki import provider
from portal.mock_jpki.ca import MockCA
from portal.mock_jpki.models import (
    AUTH_PIN_TRIES,
    SIGN_PASSWORD_TRIES,
    MockCard,
    MockSignTransaction,
)

SIGN_TRANSACTION_LIFETIME_MINUTES = 10
MAX_DOCUMENTS = 20
DIGEST = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url of 32 bytes, unpadded

bp = Blueprint("mock_jpki", __name__, url_prefix="/mock-jpki")

ERROR_TEXTS = {
    "invalid_client": "この申請サービスは登録されていません。",
    "invalid_request": "申請サービスからの要求に不備があります。",
    "invalid_scope": "申請サービスが求めた情報の種類が正しくありません。",
    "unsupported_response_type": "申請サービスからの要求の形式に対応していません。",
}


MAX_DELAY_SECONDS = 30


def fault_file():
    from pathlib import Path

    return Path(current_app.config["INSTANCE_PATH"]) / "mock_jpki" / "fault"


@bp.before_request
def _simulate_faults():
    """Failure simulators for development and tests: `flask mock-jpki fault down|slow N|off`
    writes instance/mock_jpki/fault, read by every worker on every request."""
    try:
        fault = fault_file().read_text().strip()
    except FileNotFoundError:
        return None
    if fault == "down":
        if request.path.endswith("/authorize"):
            from portal.web import render_error

            return render_error(503)
        return jsonify(error="temporarily_unavailable"), 503
    if fault.startswith("slow:"):
        import time

        time.sleep(min(float(fault.partition(":")[2] or 0), MAX_DELAY_SECONDS))
    return None


def _server():
    return current_app.extensions["mock_jpki_server"]


def _personas():
    from portal.demo_data.people import load_personas

    return load_personas()


@bp.get("/.well-known/openid-configuration")
def discovery():
    base = provider.issuer()
    return jsonify(
        issuer=base,
        authorization_endpoint=f"{base}/authorize",
        token_endpoint=f"{base}/token",
        userinfo_endpoint=f"{base}/userinfo",
        jwks_uri=f"{base}/jwks",
        # Not standard OpenID metadata: where relying parties register documents to sign.
        sign_transaction_endpoint=f"{base}/sign/transactions",
        response_types_supported=["code"],
        grant_types_supported=["authorization_code"],
        subject_types_supported=["pairwise"],
        id_token_signing_alg_values_supported=["RS256"],
        scopes_supported=list(provider.SCOPES),
        claims_supported=[
            "sub",
            "name",
            "address",
            "birthdate",
            "gender",
            "my_number",
            "acr",
            "nonce",
        ],
        acr_values_supported=list(provider.SUPPORTED_ACR),
        code_challenge_methods_supported=["S256"],
        token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
    )


@bp.get("/ca/root.pem")
def ca_root():
    """The mock CA's root certificate, which relying parties trust for signature checks."""
    pem = _ca().root_certificate.public_bytes(serialization.Encoding.PEM)
    return current_app.response_class(pem, mimetype="application/x-pem-file")


@bp.get("/ca/crl.pem")
def ca_crl():
    """The revocation list (signature certificates of people who moved)."""
    pem = _ca().crl(clock.now()).public_bytes(serialization.Encoding.PEM)
    return current_app.response_class(pem, mimetype="application/x-pem-file")


@bp.get("/jwks")
def jwks():
    return jsonify(provider.jwks())


def _ca() -> MockCA:
    from pathlib import Path

    ca = current_app.extensions.get("mock_jpki_ca")
    if ca is None:
        ca = MockCA(Path(current_app.config["INSTANCE_PATH"]) / "mock_jpki" / "ca")
        current_app.extensions["mock_jpki_ca"] = ca
    return ca


def _deny(grant, description: str):
    """Send the resident back to the relying party with access_denied and a reason code."""
    params = [("error", "access_denied"), ("error_description", description)]
    if grant.request.payload.state:
        params.append(("state", grant.request.payload.state))
    return redirect(add_params_to_uri(grant.redirect_uri, params))


def _card(persona_id: str) -> MockCard:
    card = db.session.get(MockCard, persona_id)
    if card is None:
        card = MockCard(persona_id=persona_id)
        db.session.add(card)
        db.session.flush()
    return card


def _typed_secret(typed: str, signing: bool) -> tuple[str, str | None]:
    """The PIN or signature password as typed, normalised: full-width digits and letters become
    ASCII (NFKC), spaces and hyphens pasted with a PIN are dropped, the password is upper case on
    the card. Returns it with a message when it cannot be a PIN at all (not four digits)."""
    text = unicodedata.normalize("NFKC", typed).strip()
    if signing:  # any other password is tried against the card, and counted
        return text.upper(), None
    secret = re.sub(r"[\s\-ー－]", "", text)
    if not re.fullmatch(r"[0-9]{4}", secret):
        return secret, translate("暗証番号は数字4桁で入力してください（回数には数えていません）")
    return secret, None


def _record_wrong_secret(persona_id: str, signing: bool) -> int:
    """Count a wrong PIN or password (guarded UPDATE) and lock at the limit; returns the tries
    left. The counters are the card's: they survive any number of new login attempts."""
    failures = MockCard.sign_failures if signing else MockCard.auth_failures
    locked = MockCard.sign_locked if signing else MockCard.auth_locked
    limit = SIGN_PASSWORD_TRIES if signing else AUTH_PIN_TRIES
    db.session.execute(
        update(MockCard)
        .where(MockCard.persona_id == persona_id, locked.is_(False))
        .values({failures: failures + 1})
    )
    db.session.execute(
        update(MockCard)
        .where(MockCard.persona_id == persona_id, failures >= limit)
        .values({locked: True})
    )
    count = db.session.scalar(select(failures).where(MockCard.persona_id == persona_id))
    return max(limit - count, 0)


def _sign_transaction(grant) -> MockSignTransaction | None:
    transaction_id = grant.request.payload.data.get("sign_transaction_id", "")
    transaction = db.session.scalar(
        select(MockSignTransaction).where(
            MockSignTransaction.transaction_id == transaction_id,
            MockSignTransaction.client_id == grant.client.get_client_id(),
            MockSignTransaction.status == "pending",
        )
    )
    if transaction is None or transaction.expires_at <= clock.now():
        return None
    return transaction


@bp.route("/authorize", methods=["GET", "POST"])
def authorize():
    try:
        grant = _server().get_consent_grant(end_user=None)
    except OAuth2Error as error:
        if getattr(error, "redirect_uri", None):
            return _server().handle_error_response(request, error)
        return (
            render_template(
                "mock_jpki/error.html",
                code=error.error,
                text=ERROR_TEXTS.get(error.error, "要求を処理できませんでした。"),
            ),
            400,
        )

    signing = "sign" in grant.request.payload.scope.split()
    transaction = _sign_transaction(grant) if signing else None
    if signing and transaction is None:
        return _deny(grant, "invalid_sign_transaction")

    personas = _personas()
    errors: dict[str, str] = {}
    chosen = request.form.get("card", "")
    if request.method == "POST":
        if request.form.get("action") == "cancel":
            reason = request.form.get("reason", "")
            if reason in {
                "card_locked",
                "certificate_expired",
                "signature_certificate_revoked",
                "no_signature_certificate",
                "signature_locked",
            }:
                return _deny(grant, reason)
            return _server().create_authorization_response(grant=grant, grant_user=None)
        persona = personas.get(chosen)
        if persona is None:
            errors["card"] = translate("使うカードを選んでください")
        else:
            problem = _card_problem(persona, signing)
            if problem:
                db.session.commit()
                return render_template("mock_jpki/unavailable.html", problem=problem), 403
            secret, malformed = _typed_secret(request.form.get("pin", ""), signing)
            expected = persona.sign_password if signing else persona.auth_pin
            if malformed:
                # Not the form of a PIN or password at all: a typing slip, told as such and not
                # counted as a wrong try (the card itself is never asked).
                errors["pin"] = malformed
            elif not hmac.compare_digest(secret.encode(), expected.encode()):
                left = _record_wrong_secret(persona.id, signing)
                db.session.commit()
                if left == 0:
                    problem = "signature_locked" if signing else "card_locked"
                    return render_template("mock_jpki/unavailable.html", problem=problem), 403
                errors["pin"] = (
                    translate(
                        "パスワードが違います。あと%(left)s回間違えると、ロックされます", left=left
                    )
                    if signing
                    else translate(
                        "暗証番号が違います。あと%(left)s回間違えると、ロックされます", left=left
                    )
                )
            else:
                card = _card(persona.id)
                if signing:
                    card.sign_failures = 0
                    _sign_documents(transaction, persona)
                else:
                    card.auth_failures = 0
                db.session.commit()
                return _server().create_authorization_response(
                    grant=grant, grant_user=provider.CardHolder(persona.id)
                )
    return render_template(
        "mock_jpki/authorize.html",
        personas=list(personas.values()),
        card_labels={p.id: card_label(p) for p in personas.values()},
        chosen=chosen,
        errors=errors,
        error_links={name: f"f-{name}" for name in errors},
        client_id=grant.client.get_client_id(),
        scopes=grant.request.payload.scope.split(),
        documents=transaction.documents if transaction else [],
        signing=signing,
    )


_RELATIVE = re.compile(r"^(.+)の(配偶者|長女|長男)$")
_AGE = re.compile(r"^(\d+)歳$")


def card_label(persona) -> Markup:
    """A demo card's label in the page's language: the holder's name as registered (marked
    Japanese: names are not translated), then what the card is for, part by part
    (`45歳・会社員`: each part a chrome message)."""

    def name(text: str) -> Markup:
        return Markup('<span class="person-name" lang="ja">{}</span>').format(text)

    label = persona.card_label
    if not label.startswith(persona.name + "（") or not label.endswith("）"):
        return Markup("{}").format(label)
    parts = []
    for part in label[len(persona.name) + 1 : -1].split("・"):
        age, relative = _AGE.match(part), _RELATIVE.match(part)
        if age:
            parts.append(Markup("{}").format(translate("%(age)s歳", age=age.group(1))))
        elif relative:
            message = translate(f"%(name)sの{relative.group(2)}", name="\0")
            before, _, after = message.partition("\0")
            parts.append(Markup("{}{}{}").format(before, name(relative.group(1)), after))
        else:
            parts.append(Markup("{}").format(translate(part)))
    details = escape(translate("・")).join(parts)
    around = translate("（%(details)s）", details="\0")
    return Markup("{}{}").format(name(persona.name), around).replace("\0", details)


def _card_problem(persona, signing: bool) -> str | None:
    card = _card(persona.id)
    if persona.locked_auth or card.auth_locked:
        return "card_locked"
    if persona.certificates.authentication == "expired":
        return "certificate_expired"
    if signing:
        if card.sign_locked:
            return "signature_locked"
        status = persona.certificates.signature
        return {
            "none": "no_signature_certificate",
            "revoked": "signature_certificate_revoked",
            "expired": "certificate_expired",
        }.get(status)
    return None


def _sign_documents(transaction: MockSignTransaction, persona) -> None:
    """One password entry signs every document of the transaction."""
    ca = _ca()
    signatures = []
    for document in transaction.documents:
        digest = base64.urlsafe_b64decode(document["digest"] + "=")
        signature = ca.sign(persona, digest, clock.now())
        signatures.append(
            {**document, "signature": base64.urlsafe_b64encode(signature).decode().rstrip("=")}
        )
    certificate = ca.certificate(persona, "signature", clock.now())
    transaction.signatures = signatures
    transaction.certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    transaction.persona_id = persona.id
    transaction.status = "signed"


def _client_from_basic_auth():
    auth = request.authorization
    if not auth or not auth.username:
        return None
    client = provider.clients(current_app).get(auth.username)
    if client is None or not client.check_client_secret(auth.password or ""):
        return None
    return client


@bp.post("/sign/transactions")
@csrf.exempt
def create_sign_transaction():
    """Server to server: the relying party registers the digests to be signed."""
    client = _client_from_basic_auth()
    if client is None:
        return jsonify(error="invalid_client"), 401
    body = request.get_json(silent=True) or {}
    documents = body.get("documents")
    if (
        not isinstance(documents, list)
        or not 1 <= len(documents) <= MAX_DOCUMENTS
        or not all(
            isinstance(d, dict)
            and isinstance(d.get("title"), str)
            and 0 < len(d["title"]) <= 200
            and isinstance(d.get("digest"), str)
            and DIGEST.match(d["digest"])
            for d in documents
        )
    ):
        return jsonify(
            error="invalid_request",
            error_description="documents: 1 to 20 of {title, digest: base64url SHA-256}",
        ), 400
    transaction = MockSignTransaction(
        transaction_id=secrets.token_urlsafe(24),
        client_id=client.get_client_id(),
        documents=[{"title": d["title"], "digest": d["digest"]} for d in documents],
        created_at=clock.now(),
        expires_at=clock.now() + dt.timedelta(minutes=SIGN_TRANSACTION_LIFETIME_MINUTES),
    )
    db.session.add(transaction)
    db.session.commit()
    return jsonify(sign_transaction_id=transaction.transaction_id), 201


@bp.get("/sign/transactions/<transaction_id>")
@csrf.exempt
def sign_transaction_result(transaction_id: str):
    """The signatures and the signature certificate, for the access token of the signer."""
    protector = current_app.extensions["mock_jpki_protector"]

    @protector("sign")
    def inner():
        transaction = db.session.scalar(
            select(MockSignTransaction).where(
                MockSignTransaction.transaction_id == transaction_id,
                MockSignTransaction.client_id == current_token.client_id,
                MockSignTransaction.persona_id == current_token.persona_id,
                MockSignTransaction.status == "signed",
            )
        )
        if transaction is None:
            abort(404)
        return jsonify(
            sign_transaction_id=transaction.transaction_id,
            signatures=transaction.signatures,
            certificate=transaction.certificate_pem,
        )

    return inner()


@bp.post("/token")
@csrf.exempt
def token():
    return _server().create_token_response()


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf.exempt
def userinfo():
    protector = current_app.extensions["mock_jpki_protector"]

    @protector("openid")
    def inner():
        token = current_token
        return jsonify(provider.user_claims(token.persona_id, token.scope, token.client_id))

    return inner()
