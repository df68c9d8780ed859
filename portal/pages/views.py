"""Views of the site pages (liveness and readiness: portal/health.py)."""

from __future__ import annotations

from flask import current_app, render_template, request

from portal.catalog.search import search
from portal.pages import bp


@bp.get("/")
def home():
    """The procedure list, with search by name or reading and a life-event filter."""
    catalog = current_app.extensions["catalog"]
    query = request.args.get("q", "").strip()[:100]
    event = request.args.get("event") or None
    if event is not None and event not in {e.id for e in catalog.life_events}:
        event = None
    procedures = search(catalog, query, event)  # counter procedures too: they say why
    return render_template(
        "pages/home.html",
        procedures=procedures,
        catalog=catalog,
        query=query,
        event=event,
        searching=bool(query or event),
    )


@bp.get("/accessibility")
def accessibility():
    return render_template("pages/accessibility.html")


@bp.get("/privacy")
def privacy():
    return render_template("pages/privacy.html")
