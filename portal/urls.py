"""The portal's own address. Every absolute link the portal hands out (to the card service and
the payment provider as return addresses, in mail, QR codes, printouts and the API) is built
here from the one setting PORTAL_PUBLIC_URL, never from the Host header of a request (which a
client chooses, so a link in a mail could otherwise point anywhere). Every redirect whose target
comes from a request goes through `safe_path`, so none leads off the site."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import current_app, url_for


def public_url_for(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` under the portal's public address."""
    return current_app.config["PUBLIC_URL"] + url_for(endpoint, **values)


# The longest redirect target the portal echoes (its own paths are far shorter; a longer one is
# not a path of ours, and would only make a Location header someone else chose).
MAX_REDIRECT_LENGTH = 1000


def safe_path(value: str | None, default: str | None = None) -> str | None:
    """`value` when it is a path on this site, otherwise `default` (decision 0044).

    Browsers drop tabs and line breaks inside URLs and read a backslash as a slash, so
    "/\\tevil.example" and "/\\\\evil.example" lead to another host: anything but printable ASCII,
    any backslash, and anything a browser would read as another origin (a scheme, `//host`,
    percent-encoded slashes or backslashes that a later decoding would make into either) is
    refused, and so is a value longer than MAX_REDIRECT_LENGTH."""
    if not value or len(value) > MAX_REDIRECT_LENGTH:
        return default
    if any(not 0x21 <= ord(char) <= 0x7E for char in value) or "\\" in value:
        return default
    if not value.startswith("/") or value.startswith("//"):
        return default
    decoded = unquote(value)
    for _ in range(3):  # a doubly encoded "%252F" is still a slash to a second decoder
        if decoded.startswith("//") or "\\" in decoded or not decoded.startswith("/"):
            return default
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in decoded):
            return default
        decoded, before = unquote(decoded), decoded
        if decoded == before:
            break
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value
