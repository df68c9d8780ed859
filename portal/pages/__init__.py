"""Site pages: the procedure list (home), the accessibility statement, privacy, and /healthz."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from portal.pages import views  # noqa: E402,F401  (registers the routes)
