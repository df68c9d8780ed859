"""The back office under /staff/: staff sign-in, the department's cases and their workflow, the
inbox, counter entry (書かない窓口), appointments, payments and exports.

The blueprint is defined here and the route modules add their pages to it (`from portal.staff
import bp`). This module imports none of them: the app factory imports `portal.staff.views`,
which imports the other route modules, so importing the staff models or services never loads
the pages (docs/decisions/0038-package-shape-and-import-rules.md). `access` guards every page
(a member signed in, cases scoped to the member's departments); `service`, `workflow`, `inbox`,
`exports` and `tokens` do the work. The JSON API for the city's core systems is a blueprint of
its own (`portal.staff.api`, /api/staff/v1), registered by the app factory.
"""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")
