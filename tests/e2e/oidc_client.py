"""An independent OpenID Connect relying party for the protocol tests: plain HTTP (urllib) and
joserfc, no portal code, so the tests check the mock provider the way any client would."""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import json
import re
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Response:
    status: int
    headers: dict
    body: str

    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def location_params(self) -> dict:
        query = urllib.parse.urlsplit(self.headers["Location"]).query
        return dict(urllib.parse.parse_qsl(query))


class RelyingParty:
    def __init__(
        self,
        base: str,
        client_id="test-rp",
        secret="test-secret",
        redirect_uri="http://127.0.0.1:49151/callback",
    ):
        self.base, self.client_id, self.secret, self.redirect_uri = (
            base,
            client_id,
            secret,
            redirect_uri,
        )
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect()
        )

    def request(self, url, data=None, headers=None) -> Response:
        body = urllib.parse.urlencode(data).encode() if isinstance(data, dict) else data
        req = urllib.request.Request(url, data=body, headers=headers or {})
        try:
            with self.opener.open(req, timeout=30) as r:
                return Response(r.status, dict(r.headers), r.read().decode())
        except urllib.error.HTTPError as e:
            return Response(e.code, dict(e.headers), e.read().decode())

    def discovery(self) -> dict:
        return self.request(f"{self.base}/mock-jpki/.well-known/openid-configuration").json()

    def authorization_params(self, **overrides) -> dict:
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .decode()
            .rstrip("=")
        )
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid name address birthdate gender",
            "state": secrets.token_urlsafe(16),
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "acr_values": "aal3",
        }
        params.update(overrides)
        params = {k: v for k, v in params.items() if v is not None}
        params["_verifier"] = verifier
        return params

    def authorize(self, params: dict, card="adult", pin="1234", action="login") -> Response:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if not k.startswith("_")})
        url = f"{self.base}/mock-jpki/authorize?{query}"
        page = self.request(url)
        if page.status != 200:
            return page
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.body).group(1)
        return self.request(url, {"csrf_token": token, "card": card, "pin": pin, "action": action})

    def token(self, code, verifier, redirect_uri=None, client_id=None, secret=None) -> Response:
        auth = base64.b64encode(
            f"{client_id or self.client_id}:{secret or self.secret}".encode()
        ).decode()
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri or self.redirect_uri,
        }
        if verifier is not None:
            data["code_verifier"] = verifier
        return self.request(
            f"{self.base}/mock-jpki/token", data, {"Authorization": f"Basic {auth}"}
        )

    def verify_id_token(self, id_token: str, nonce: str, now: float | None = None) -> dict:
        """Validate as a relying party must: signature (by kid), iss, aud, nonce, exp.
        Raises ValueError naming what is wrong."""
        config = self.discovery()
        keys = KeySet.import_key_set(self.request(config["jwks_uri"]).json())
        try:
            token = jwt.decode(id_token, keys, algorithms=["RS256"])
        except JoseError as error:
            raise ValueError(f"bad signature: {error}") from error
        claims = token.claims
        if token.header.get("kid") not in {k.kid for k in keys}:
            raise ValueError("unknown kid")
        if claims.get("iss") != config["issuer"]:
            raise ValueError("wrong iss")
        aud = claims.get("aud")
        if self.client_id not in (aud if isinstance(aud, list) else [aud]):
            raise ValueError("wrong aud")
        if claims.get("nonce") != nonce:
            raise ValueError("wrong nonce")
        if claims.get("exp", 0) <= (now or time.time()):
            raise ValueError("expired")
        return claims
