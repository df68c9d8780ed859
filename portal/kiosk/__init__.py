"""Kiosk mode: a registered public terminal at city hall that serves one resident after
another on the same submission engine and forgets each of them
(docs/decisions/0048-kiosk-mode.md).

`bp` (/kiosk) holds the terminal's own pages: what a kiosk is (any unregistered browser), the
start screen, the procedures it offers, 終了, the idle countdown's time and 続ける, the
「続きはスマートフォンで」 hand-over and the out-of-service page. `handoff_bp` (/continue) is
where a resident opens a handed-over draft on their own phone. `mode` puts every request of a
registered terminal under the kiosk's rules (the engine's pages get the kiosk frame through a
context processor; the engine never imports this package); `service` decides and persists;
`engine` registers the kiosk with the engine's extension points; the staff pages that register
and revoke terminals are portal.staff.kiosks.
"""

from flask import Blueprint

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")
handoff_bp = Blueprint("kiosk_handoff", __name__, url_prefix="/continue")
