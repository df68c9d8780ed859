"""The mock デジタル認証アプリ as an OpenID Connect provider, built on Authlib's server.

Authorization-code flow only. `state`, `nonce` and PKCE with S256 are required; codes are
single-use, expire after a minute and are bound to the client and redirect URI; only registered
redirect URIs are accepted; ID tokens are RS256 with a `kid`; `sub` is a pairwise pseudonym (an
HMAC of the client and the persona), never a My Number or a certificate serial. Errors use the
codes OAuth 2.0 and OpenID Connect define, so a relying party written against this mock works
against the real service by configuration alone.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, current_app, request
from joserfc.jwk import RSAKey
from sqlalchemy import delete, select

from portal import clock
from portal.db import db
from portal.mock_jpki.models import MockAccessToken, MockAuthorizationCode

# my_number: the card's 個人番号 from its 券面事項入力補助 application (its own consent line on
# the card page), for a relying party that may use it (the city's 個人番号利用事務).
SCOPES = ("openid", "name", "address", "birthdate", "gender", "my_number", "sign")
OTHER_CLIENT_SCOPES = tuple(s for s in SCOPES if s != "my_number")
CODE_LIFETIME = dt.timedelta(minutes=1)
TOKEN_LIFETIME = dt.timedelta(minutes=10)
ID_TOKEN_LIFETIME = 600
SUPPORTED_ACR = ("aal3", "crl")


@dataclass(frozen=True)
class Client:
    """A registered relying party (Authlib's ClientMixin)."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...] = SCOPES
    token_endpoint_auth_methods: tuple[str, ...] = ("client_secret_basic", "client_secret_post")
    extra: dict = field(default_factory=dict)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in self.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method in self.token_endpoint_auth_methods

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


def clients(app: Flask) -> dict[str, Client]:
    return app.extensions["mock_jpki_clients"]


def load_clients(config: dict) -> dict[str, Client]:
    """The configured relying parties, plus the portal itself (the mock knows its own portal)."""
    raw = json.loads(config["MOCK_JPKI_CLIENTS"])
    raw.append(
        {
            "client_id": config["JPKI_CLIENT_ID"],
            "client_secret": config["JPKI_CLIENT_SECRET"],
            "redirect_uris": config["JPKI_REDIRECT_URIS"],
        }
    )
    portal = config["JPKI_CLIENT_ID"]
    return {
        c["client_id"]: Client(
            c["client_id"],
            c["client_secret"],
            tuple(c["redirect_uris"]),
            # Only the city's own portal (個人番号利用事務実施者) may read the card's 個人番号.
            SCOPES if c["client_id"] == portal else OTHER_CLIENT_SCOPES,
        )
        for c in raw
    }


def issuer() -> str:
    return current_app.config.get("MOCK_JPKI_ISSUER") or request.host_url.rstrip("/") + "/mock-jpki"


def pairwise_sub(client_id: str, persona_id: str) -> str:
    """The same person gets a different, stable `sub` at each relying party."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"sub|{client_id}|{persona_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


# -- the ID-token signing key ----------------------------------------------------------------


def _key_path() -> Path:
    return Path(current_app.config["INSTANCE_PATH"]) / "mock_jpki" / "id_token_key.pem"


def signing_key() -> RSAKey:
    """The provider's RS256 key, made once and shared by every worker (file lock)."""
    cached = current_app.extensions.get("mock_jpki_signing_key")
    if cached is not None:
        return cached
    path = _key_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(path.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(pem)
            tmp.chmod(0o600)
            os.replace(tmp, path)
    key = RSAKey.import_key(path.read_bytes(), {"use": "sig", "alg": "RS256"})
    key.ensure_kid()
    current_app.extensions["mock_jpki_signing_key"] = key
    return key


def jwks() -> dict:
    return {"keys": [signing_key().as_dict(private=False)]}


# -- grants ----------------------------------------------------------------------------------


class StrictCodeChallenge(CodeChallenge):
    """PKCE with S256 on every authorization request, and `state` required too."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        payload = grant.request.payload
        if not payload.state:
            raise InvalidRequestError("Missing 'state' in request.", redirect_uri=redirect_uri)
        if not payload.data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge' (PKCE is required).")
        if payload.data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code, request):
        data = request.payload.data
        requested_acr = set(data.get("acr_values", "").split())
        db.session.add(
            MockAuthorizationCode(
                code=code,
                client_id=request.client.get_client_id(),
                redirect_uri=request.payload.redirect_uri,
                scope=request.payload.scope,
                persona_id=request.user.persona_id,
                nonce=data.get("nonce"),
                acr="aal3" if not requested_acr or requested_acr & set(SUPPORTED_ACR) else None,
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                auth_time=int(clock.now().timestamp()),
                expires_at=clock.now() + CODE_LIFETIME,
            )
        )
        db.session.commit()

    def query_authorization_code(self, code, client):
        found = db.session.scalar(
            select(MockAuthorizationCode).where(
                MockAuthorizationCode.code == code,
                MockAuthorizationCode.client_id == client.get_client_id(),
            )
        )
        if found is None or found.expires_at <= clock.now():
            return None
        return found

    def delete_authorization_code(self, authorization_code):
        # A guarded DELETE: of two requests racing with the same code, only one finds it.
        result = db.session.execute(
            delete(MockAuthorizationCode).where(MockAuthorizationCode.id == authorization_code.id)
        )
        if result.rowcount != 1:
            raise InvalidRequestError("code already used")  # pragma: no cover - race only
        db.session.commit()

    def authenticate_user(self, authorization_code):
        return CardHolder(authorization_code.persona_id)


@dataclass(frozen=True)
class CardHolder:
    """The authenticated user: only the persona id travels inside the provider."""

    persona_id: str

    def get_user_id(self) -> str:
        return self.persona_id


class JPKIOpenIDCode(OpenIDCode):
    def exists_nonce(self, nonce, request):
        return (
            db.session.scalar(
                select(MockAuthorizationCode.id).where(
                    MockAuthorizationCode.nonce == nonce,
                    MockAuthorizationCode.client_id == request.payload.client_id,
                )
            )
            is not None
        )

    def resolve_client_private_key(self, client):
        return signing_key()

    def get_client_algorithm(self, client):
        return "RS256"

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": signing_key().kid, "typ": "JWT"}

    def get_client_claims(self, client):
        now = int(clock.now().timestamp())
        return {
            "iss": issuer(),
            "aud": [client.get_client_id()],
            "iat": now,
            "exp": now + ID_TOKEN_LIFETIME,
        }

    def generate_user_info(self, user, scope):
        return user_claims(user.persona_id, scope, self.server_client_id())

    def server_client_id(self) -> str:
        return request.form.get("client_id") or _basic_client_id()


def _basic_client_id() -> str:
    auth = request.authorization
    return auth.username if auth and auth.username else ""


def user_claims(persona_id: str, scope: str, client_id: str) -> UserInfo:
    """The claims the card releases for these scopes (the four basic items, 基本4情報)."""
    from portal.demo_data.people import load_personas

    persona = load_personas()[persona_id]
    items = persona.four_items()
    scopes = set(scope.split())
    info = UserInfo(sub=pairwise_sub(client_id, persona_id))
    if "name" in scopes:
        info["name"] = items["name"]
    if "address" in scopes:
        info["address"] = {"formatted": items["address"]}
    if "birthdate" in scopes:
        info["birthdate"] = items["birthdate"]
    if "gender" in scopes:
        info["gender"] = items["gender"]
    if "my_number" in scopes:
        info["my_number"] = persona.my_number
    return info


def save_token(token, request):
    db.session.add(
        MockAccessToken(
            access_token=token["access_token"],
            client_id=request.client.get_client_id(),
            persona_id=request.user.persona_id,
            scope=token.get("scope", ""),
            expires_at=clock.now() + dt.timedelta(seconds=token.get("expires_in", 600)),
        )
    )
    db.session.commit()


class TokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        return db.session.scalar(
            select(MockAccessToken).where(MockAccessToken.access_token == token_string)
        )


def make_server(app: Flask) -> tuple[AuthorizationServer, ResourceProtector]:
    app.extensions["mock_jpki_clients"] = load_clients(app.config)
    app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {"authorization_code": 600})
    server = AuthorizationServer(
        app,
        query_client=lambda client_id: clients(current_app).get(client_id),
        save_token=save_token,
    )
    server.register_grant(
        AuthorizationCodeGrant, [JPKIOpenIDCode(require_nonce=True), StrictCodeChallenge()]
    )
    protector = ResourceProtector()
    protector.register_token_validator(TokenValidator())
    return server, protector
