"""The submission engine's blueprint: procedure pages, steps, check answers, confirmation,
status page and receipt."""

from flask import Blueprint

bp = Blueprint("submissions", __name__)

from portal.submissions import views  # noqa: E402,F401  (registers the routes)
