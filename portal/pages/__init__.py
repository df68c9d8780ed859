"""Site pages: the procedure list (home), the accessibility statement, privacy, and /healthz."""

from flask import Blueprint

bp = Blueprint("pages", __name__)
