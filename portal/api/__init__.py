"""A read-only JSON API over the procedure catalog, at /api/v1 (described by /api/v1/openapi.json).

The catalog is public information, so the API has no login and no state-changing routes. Errors
under /api/v1 are JSON, never the HTML error page.
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
