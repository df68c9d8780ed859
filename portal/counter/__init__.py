"""書かない窓口, the visitor's side: a channel of its own on the submission engine, not part of the
back office (docs/decisions/0035-counter-entry.md, 0037-engine-extension-points.md).

A clerk (portal.staff.counter, on the staff blueprint) enters the application for the visitor
and issues a one-time confirmation link; the visitor's screen (this blueprint, `/counter/...`,
no staff cookie) shows the answers with the engine's check-answers component and submits
through the engine, with the card's signature first for procedures at identity level
"signature". `confirmation` holds what both sides share: the link, the audit texts, how an
application was confirmed. `engine` registers the counter's helper kind with the engine.
"""

from flask import Blueprint

bp = Blueprint("counter", __name__, url_prefix="/counter")

from portal.counter import views  # noqa: E402,F401  (register the routes)
