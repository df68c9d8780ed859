"""The portal's application factory: load configuration, the catalog and extensions, wire the
blueprints. No logic lives here; an invalid catalog or configuration stops start-up with a
message that names the cause.
"""

from __future__ import annotations

from flask import Flask

from portal import clock
from portal.catalog import load_catalog
from portal.config import load_config
from portal.db import db as database
from portal.extensions import csrf


def create_app(env: str | None = None, overrides: dict | None = None) -> Flask:
    config = load_config(env, overrides)
    app = Flask(__name__, instance_path=config["INSTANCE_PATH"], instance_relative_config=False)
    app.config.update(config)
    clock.configure(app.config["TEST_CLOCK_FILE"])
    app.extensions["catalog"] = load_catalog(app.config["CATALOG_PATH"])

    database.init_app(app)
    csrf.init_app(app)

    from portal import cli, web
    from portal.pages import bp as pages_bp
    from portal.submissions import bp as submissions_bp

    app.register_blueprint(pages_bp)
    app.register_blueprint(submissions_bp)
    web.init_app(app)
    cli.init_app(app)
    return app
