"""/life-events/<id>: the screening questions, then the personal checklist.

The answers live in the resident's server-side session (never in the URL) so the checklist can
be reopened; 「答え直す」 shows the questions again with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.datastructures import MultiDict

from portal import clock
from portal.bundles import service as bundle_service
from portal.bundles import views as bundle_views
from portal.catalog.schema import LifeEvent
from portal.i18n import translate
from portal.life_events import bp, checklist
from portal.localization import localized_event


@dataclass
class ScreeningContext:
    """What the catalog's field types need to read a screening form (no files, no drafts)."""

    form: MultiDict
    files: MultiDict = field(default_factory=MultiDict)
    previous: dict = field(default_factory=dict)
    now: object = None


def _event_or_404(event_id: str) -> LifeEvent:
    """The catalog's life event (Japanese: what a bundle stores); pages show `localized_event`."""
    catalog = current_app.extensions["catalog"]
    event = next((e for e in catalog.life_events if e.id == event_id), None)
    if event is None or event.screening is None:
        abort(404)
    return event


def _stored(event: LifeEvent) -> dict | None:
    return session.get("life_events", {}).get(event.id)


@bp.get("/")
def index():
    catalog = current_app.extensions["catalog"]
    return render_template(
        "life_events/index.html",
        events=[localized_event(e) for e in catalog.life_events if e.screening],
    )


@bp.route("/<event_id>", methods=["GET", "POST"])
def screening(event_id: str):
    # Read and shown in the resident's language (decision 0072): the same field names and
    # values, so the stored answers do not depend on the language.
    event = localized_event(_event_or_404(event_id))
    stored = _stored(event) or {}
    raw = (
        {
            f.name: f.field_type.raw_from_value(f, stored.get(f.name), None)
            for f in event.screening.fields
        }
        if stored
        else {}
    )
    errors: dict[str, str] = {}
    if request.method == "POST":
        ctx = ScreeningContext(form=request.form, now=clock.now())
        answers = {}
        for f in event.screening.fields:
            parsed = f.field_type.read_input(f, ctx, f.name)
            raw[f.name] = parsed.raw
            errors.update(parsed.errors)
            answers[f.name] = parsed.value
        if not errors:
            saved = dict(session.get("life_events", {}))
            saved[event.id] = answers
            session["life_events"] = saved
            return redirect(url_for(".checklist_page", event_id=event.id), 303)
    return (
        render_template("life_events/screening.html", event=event, raw=raw, errors=errors),
        422 if errors else 200,
    )


@bp.route("/<event_id>/checklist", methods=["GET", "POST"])
def checklist_page(event_id: str):
    """The personal checklist; with a bundle in the catalog, a form that files the chosen
    online procedures together (portal.bundles)."""
    event = _event_or_404(event_id)
    shown = localized_event(event)
    answers = _stored(event)
    if answers is None:
        return redirect(url_for(".screening", event_id=event.id))
    today = clock.today_local()
    found = checklist.lines(current_app.extensions["catalog"], shown, answers, today)
    # Offered for filing together in the catalog's order (転入予約 before what follows it).
    applying = {line.procedure.id for line in found if line.procedure}
    catalog = current_app.extensions["catalog"]
    offered = [
        catalog.procedure(item.procedure)
        for item in event.items
        if event.bundle is not None
        and item.procedure in applying
        and bundle_service.bundleable(catalog.procedure(item.procedure))
    ]
    chosen = [p.id for p in offered]
    kept = session.get("bundle_choice", {}).get(event.id)
    if request.method == "GET" and kept is not None and session.get("user"):
        # Chosen before logging in: shown again as chosen.
        choices = dict(session["bundle_choice"])
        choices.pop(event.id)
        session["bundle_choice"] = choices
        chosen = [pid for pid in kept if pid in chosen]
    errors: dict[str, str] = {}
    if request.method == "POST" and offered:
        chosen = [pid for pid in request.form.getlist("procedure") if pid in chosen]
        if session.get("user") is None:
            session["bundle_choice"] = {**session.get("bundle_choice", {}), event.id: chosen}
            return redirect(url_for("identity.login", next=request.path))
        if not chosen:
            errors["procedure"] = translate("まとめて申請する手続を1つ以上選んでください")
        else:
            return bundle_views.start_bundle(event, answers, chosen)
    return (
        render_template(
            "life_events/checklist.html",
            event=shown,
            groups=checklist.grouped(found),
            event_day=checklist.event_day(event, answers),
            count=len(found),
            offered=offered,
            chosen=chosen,
            errors=errors,
            logged_in=session.get("user") is not None,
        ),
        422 if errors else 200,
    )
