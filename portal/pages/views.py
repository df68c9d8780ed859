"""Views of the site pages (liveness and readiness: portal/health.py)."""

from __future__ import annotations

from flask import current_app, g, render_template, request, url_for

from portal.catalog.search import search
from portal.i18n import translate
from portal.pages import bp, display, statement


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
    """The accessibility statement, from the committed conformance report (decision 0065)."""
    return render_template(
        "pages/accessibility.html", report=statement.report(), statement=statement
    )


@bp.get("/privacy")
def privacy():
    return render_template("pages/privacy.html")


@bp.route("/display", methods=["GET", "POST"])
def display_settings():
    """文字の大きさと色 (kept without JavaScript: a cookie, or the kiosk visit's session)."""
    size, contrast = display.current()
    values = {"size": size, "contrast": contrast, "next": request.values.get("next", "")}
    if request.method == "POST":
        values.update({k: request.form.get(k, "") for k in ("size", "contrast")})
        errors = {}
        if values["size"] not in display.SIZES:
            errors["size"] = translate("文字の大きさを選んでください")
        if values["contrast"] not in display.CONTRASTS:
            errors["contrast"] = translate("色を選んでください")
        if errors:
            return display.page(values, errors, 400)
        fallback = url_for("kiosk.menu") if g.get("kiosk") is not None else url_for(".home")
        return display.save(values["size"], values["contrast"], values["next"], fallback)
    return display.page(values, {})
