"""Assisted sessions (issue 21, first slice): a helper the city registered (a デジタル推進委員,
a 市社会福祉協議会 worker) helps a resident file online on one device, with the resident's
consent, while the resident keeps their secrets (docs/decisions/0054-assisted-sessions.md).

`bp` (/assist) holds the helper's and the hand-over pages; `mode` puts every request of a
browser in an assisted session under its rules (the banner, the end of access, the hand-over
before a sensitive step); `service` decides and persists; `engine` registers the channel with
the engine's extension points; the staff pages that register and revoke helpers are
portal.staff.helpers.
"""

from flask import Blueprint

bp = Blueprint("assisted", __name__, url_prefix="/assist")
