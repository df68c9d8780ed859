"""The submission engine's blueprint: procedure pages, steps, check answers, confirmation,
status page and receipt."""

from flask import Blueprint

bp = Blueprint("submissions", __name__)

from portal.submissions import signing, views  # noqa: E402,F401  (register the routes)
