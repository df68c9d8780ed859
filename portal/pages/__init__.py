"""Site pages: the procedure list (home), the accessibility statement and privacy."""

from flask import Blueprint

bp = Blueprint("pages", __name__)
