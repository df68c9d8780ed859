"""Views of the site pages. /healthz checks the database as well as the process."""

from __future__ import annotations

from flask import current_app, jsonify, render_template
from sqlalchemy import text

from portal.db import db
from portal.pages import bp


@bp.get("/")
def home():
    catalog = current_app.extensions["catalog"]
    online = [p for p in catalog.procedures if p.channel != "counter"]
    return render_template("pages/home.html", procedures=online, catalog=catalog)


@bp.get("/accessibility")
def accessibility():
    return render_template("pages/accessibility.html")


@bp.get("/privacy")
def privacy():
    return render_template("pages/privacy.html")


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any database failure means unhealthy
        current_app.logger.error("health check: database unavailable (%s)", type(error).__name__)
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")
