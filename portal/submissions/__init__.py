"""The submission engine's blueprint: procedure pages, steps, check answers, confirmation,
status page and receipt."""

from flask import Blueprint

bp = Blueprint("submissions", __name__)

from portal.submissions import signing, tracking, views, who  # noqa: E402,F401  (the routes)
