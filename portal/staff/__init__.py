"""The back office under /staff/: staff sign-in, the department's cases and their workflow, the
inbox, counter entry (書かない窓口), appointments, payments and exports.

The blueprint is defined here, before anything else of the package, and the route modules add
their pages to it (`from portal.staff import bp`); they are imported at the end, so importing
the package gives the complete blueprint. `access` guards every page (a member signed in, cases
scoped to the member's departments); `service`, `workflow`, `inbox`, `exports` and `tokens` do
the work and touch neither the request nor templates. The JSON API for the city's core systems
is a blueprint of its own (`portal.staff.api`, /api/staff/v1), registered by the app factory.
"""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

# The route modules (after `bp`: they import it). `access` first: its gate runs before every page.
from portal.staff import access  # noqa: E402,F401,I001
from portal.staff import appointments, cases, counter, export_views, inbox, payments, views  # noqa: E402,F401

__all__ = ["bp"]
