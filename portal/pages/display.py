"""文字の大きさと色: text size and contrast for the ordinary site and the kiosk, without
JavaScript (docs/decisions/0057-kiosk-checkin-printing-help.md).

On the ordinary site the choice is kept in a cookie of its own (no personal data; a year). At a
kiosk it is kept in the visit's server-side session only, so it goes with the visit's wipe and
the next visitor starts with the defaults.
"""

from __future__ import annotations

from flask import Response, current_app, g, render_template, request, session

from portal.urls import safe_path

SIZES = {"standard": "標準", "large": "大きい", "xlarge": "とても大きい"}
CONTRASTS = {"standard": "標準", "high": "くっきり（白地に黒）"}
COOKIE = "portal_display"
SESSION_KEY = "display"


def _parse(value: str | None) -> tuple[str, str]:
    size, _, contrast = (value or "").partition(".")
    return (
        size if size in SIZES else "standard",
        contrast if contrast in CONTRASTS else "standard",
    )


def current() -> tuple[str, str]:
    """The text size and contrast this browser chose (the kiosk's visit, or the cookie)."""
    if g.get("kiosk") is not None:
        return _parse(session.get(SESSION_KEY))
    return _parse(request.cookies.get(COOKIE))


def html_classes() -> str:
    size, contrast = current()
    classes = []
    if size != "standard":
        classes.append(f"text-{size}")
    if contrast != "standard":
        classes.append(f"contrast-{contrast}")
    return " ".join(classes)


def page(values: dict[str, str], errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    return (
        render_template(
            "pages/display.html",
            sizes=SIZES,
            contrasts=CONTRASTS,
            values=values,
            errors=errors,
            error_links={name: f"f-{name}" for name in errors},
        ),
        status,
    )


def save(size: str, contrast: str, next_path: str | None, fallback: str) -> Response:
    from flask import redirect

    response = redirect(safe_path(next_path) or fallback, 303)
    value = f"{size}.{contrast}"
    if g.get("kiosk") is not None:
        session[SESSION_KEY] = value  # wiped with the visit
    elif (size, contrast) == ("standard", "standard"):
        response.delete_cookie(COOKIE, path="/")
    else:
        response.set_cookie(
            COOKIE,
            value,
            max_age=365 * 24 * 3600,
            httponly=True,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            samesite="Lax",
            path="/",
        )
    return response
