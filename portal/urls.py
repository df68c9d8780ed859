"""The portal's own address. Every absolute link the portal hands out (to the card service and
the payment provider as return addresses, in mail, QR codes, printouts and the API) is built
here from the one setting PORTAL_PUBLIC_URL, never from the Host header of a request (which a
client chooses, so a link in a mail could otherwise point anywhere)."""

from __future__ import annotations

from flask import current_app, url_for


def public_url_for(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` under the portal's public address."""
    return current_app.config["PUBLIC_URL"] + url_for(endpoint, **values)
