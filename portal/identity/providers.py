"""Identity providers: who can log residents in and sign their applications.

The portal talks to a provider only through `IdentityProvider`; `init_app` picks one from the
registry by the `IDENTITY_PROVIDER` setting. The one provider today is `JPKIProvider`: the My
Number card's service (公的個人認証サービス, via the デジタル認証アプリ) as OpenID Connect, through
Authlib's client. The portal's own mock (portal.mock_jpki) and the real service speak the same
protocol, so swapping them is configuration: the discovery URL, the client id and secret, the
registered redirect URIs and the CA root and CRL URLs (docs/decisions/0020-identity.md).

What every provider guarantees to the views: `finish_login` returns an `Identity` only after the
ID token's signature, issuer, audience, expiry and nonce are checked (Authlib) and the `acr` is
the level asked for; every failure is a `ProviderError` whose `kind` names a Japanese page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from flask import Flask, Response, current_app, request
from joserfc.errors import JoseError
from requests.exceptions import RequestException

from portal.identity.signature import TrustAnchorError, TrustAnchors, fetch_trust_anchors

LOGIN_ACR = "aal3"


class ProviderError(Exception):
    """A login or signature that did not complete; `kind` is a key of the failure pages."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class Identity:
    """A logged-in resident: the provider's pairwise `sub` and the card's four basic items."""

    provider: str
    sub: str
    name: str
    address: str  # one line, as on the card
    birthdate: str  # ISO date
    gender: str
    # The card's 個人番号, read from its 券面事項入力補助 application with the resident's consent,
    # only when the login asked for it (begin_login(my_number=True)); "" otherwise.
    my_number: str = ""


@dataclass(frozen=True)
class SignedDocuments:
    """What the card signed: per document {title, digest, signature}, and the certificate."""

    sub: str
    signatures: list[dict]
    certificate_pem: str


class IdentityProvider(Protocol):
    name: str

    def begin_login(self, return_url: str, my_number: bool = False) -> Response:
        """Send the resident to the provider; they come back to `return_url`. With
        `my_number`, the provider also asks the resident's consent to read the card's 個人番号
        (券面事項入力補助), returned as Identity.my_number. Called with the keyword only when
        it is True."""
        ...

    def finish_login(self) -> Identity:
        """Check the provider's answer on the return URL. Raises ProviderError."""
        ...

    def begin_signature(self, documents: list[dict], return_url: str) -> tuple[str, Response]:
        """Register documents ({title, digest}) for signing; the transaction id and the
        redirect that takes the resident to sign them. Raises ProviderError."""
        ...

    def finish_signature(self, transaction_id: str) -> SignedDocuments:
        """The signatures made on the return URL. Raises ProviderError."""
        ...

    def trust_anchors(self) -> TrustAnchors:
        """The CA root and current revocation list signatures are checked against."""
        ...


# Error codes the card service sends back (error_description of access_denied) that have a page.
KNOWN_DENIALS = {
    "card_locked",
    "certificate_expired",
    "signature_certificate_revoked",
    "no_signature_certificate",
    "signature_locked",
    "invalid_sign_transaction",
}


# The four basic items; the card's 個人番号 is asked for only with MY_NUMBER_SCOPE (its own
# consent on the card service's page), when the procedure being started has a field for it.
LOGIN_SCOPE = "openid name address birthdate gender"
MY_NUMBER_SCOPE = "my_number"


class JPKIProvider:
    """The My Number card service (or its mock) as an OpenID Connect provider."""

    name = "jpki"

    def __init__(self, app: Flask) -> None:
        from authlib.integrations.flask_client import OAuth

        self.oauth = OAuth(app)
        self.oauth.register(
            "jpki",
            client_id=app.config["JPKI_CLIENT_ID"],
            client_secret=app.config["JPKI_CLIENT_SECRET"],
            server_metadata_url=app.config["JPKI_DISCOVERY_URL"],
            client_kwargs={
                "scope": LOGIN_SCOPE,
                "code_challenge_method": "S256",
                "timeout": 10,
            },
        )
        self.ca_root_url = app.config["JPKI_CA_ROOT_URL"]
        self.crl_url = app.config["JPKI_CRL_URL"]

    @property
    def client(self):
        return self.oauth.jpki

    def begin_login(self, return_url: str, my_number: bool = False) -> Response:
        extra = {"scope": f"{LOGIN_SCOPE} {MY_NUMBER_SCOPE}"} if my_number else {}
        try:
            return self.client.authorize_redirect(return_url, acr_values=LOGIN_ACR, **extra)
        except RequestException:
            raise ProviderError("unreachable") from None

    def _token(self) -> dict:
        """Exchange the code on the return URL for tokens (Authlib checks the ID token)."""
        error = request.args.get("error")
        if error:
            reason = request.args.get("error_description", "")
            raise ProviderError(reason if reason in KNOWN_DENIALS else "access_denied")
        try:
            token = self.client.authorize_access_token()
        except MismatchingStateError:
            raise ProviderError("state") from None
        except RequestException:
            raise ProviderError("unreachable") from None
        except (OAuthError, JoseError, ValueError):
            # A bad or expired ID token (signature, issuer, audience, time claims, nonce).
            raise ProviderError("invalid") from None
        claims = token.get("userinfo") or {}
        if claims.get("acr") != LOGIN_ACR or not claims.get("sub"):
            raise ProviderError("invalid")
        return token

    def finish_login(self) -> Identity:
        # The ID token (checked by Authlib) carries the four basic items for the scopes asked.
        info = self._token()["userinfo"]
        return Identity(
            provider=self.name,
            sub=info["sub"],
            name=info.get("name", ""),
            address=(info.get("address") or {}).get("formatted", ""),
            birthdate=info.get("birthdate", ""),
            gender=info.get("gender", ""),
            my_number=str(info.get(MY_NUMBER_SCOPE) or ""),
        )

    def _metadata(self) -> dict:
        try:
            return self.client.load_server_metadata()
        except RequestException:
            raise ProviderError("unreachable") from None

    def begin_signature(self, documents: list[dict], return_url: str) -> tuple[str, Response]:
        endpoint = self._metadata().get("sign_transaction_endpoint")
        if not endpoint:
            raise ProviderError("invalid")
        try:
            # Server to server, authenticated as this relying party (HTTP Basic).
            response = requests.post(
                endpoint,
                json={"documents": documents},
                auth=(self.client.client_id, self.client.client_secret),
                timeout=10,
            )
        except RequestException:
            raise ProviderError("unreachable") from None
        if response.status_code != 201:
            raise ProviderError("unreachable" if response.status_code >= 500 else "invalid")
        transaction_id = response.json()["sign_transaction_id"]
        try:
            redirect = self.client.authorize_redirect(
                return_url,
                scope="openid sign",
                acr_values=LOGIN_ACR,
                sign_transaction_id=transaction_id,
            )
        except RequestException:
            raise ProviderError("unreachable") from None
        return transaction_id, redirect

    def finish_signature(self, transaction_id: str) -> SignedDocuments:
        token = self._token()
        endpoint = self._metadata()["sign_transaction_endpoint"]
        try:
            response = self.client.get(f"{endpoint}/{transaction_id}", token=token)
        except RequestException:
            raise ProviderError("unreachable") from None
        if response.status_code != 200:
            raise ProviderError("invalid")
        body = response.json()
        return SignedDocuments(
            sub=token["userinfo"]["sub"],
            signatures=body["signatures"],
            certificate_pem=body["certificate"],
        )

    def trust_anchors(self) -> TrustAnchors:
        try:
            return fetch_trust_anchors(self.ca_root_url, self.crl_url)
        except TrustAnchorError:
            raise ProviderError("unreachable") from None


# The registry: IDENTITY_PROVIDER names one of these.
PROVIDERS: dict[str, type] = {"jpki": JPKIProvider}


def init_app(app: Flask) -> None:
    name = app.config["IDENTITY_PROVIDER"]
    if name not in PROVIDERS:
        from portal.config import ConfigError

        raise ConfigError(f"PORTAL_IDENTITY_PROVIDER: unknown provider {name!r}")
    app.extensions["identity_provider"] = PROVIDERS[name](app)


def current_provider() -> IdentityProvider:
    return current_app.extensions["identity_provider"]
