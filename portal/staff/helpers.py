"""Staff pages for the helpers of assisted sessions (administrators): register a helper (the
name and birth date on their own card, their organisation, a validity period), list them with
their state, revoke one — which ends their open sessions at once
(docs/decisions/0054-assisted-sessions.md). Audited as helper_registered / helper_revoked."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from flask import abort, flash, g, redirect, render_template, request, url_for

from portal import clock
from portal.assisted import service as assisted
from portal.db import db
from portal.staff import bp

MAX_LENGTH = 100
MAX_YEARS = 3  # a registration is renewed at least every three years
ORGANISATIONS = ("デジタル推進委員", "市社会福祉協議会", "市の職員（支所・出張所）")
_DATE = re.compile(r"(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})日?")


def _admin():
    member = g.current_staff
    if not member.is_admin():
        abort(404)
    return member


def parse_date(text: str) -> dt.date | None:
    """2027-03-31, 2027/3/31 or 2027年3月31日 (full-width digits too)."""
    match = _DATE.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if not match:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _page(errors: dict[str, str] | None = None, values: dict[str, str] | None = None):
    today = clock.today_local()
    rows = assisted.helpers(db.session)
    return render_template(
        "staff/helpers.html",
        helpers=[(h, assisted.helper_state(h, today)) for h in rows],
        organisations=ORGANISATIONS,
        errors=errors or {},
        values=values or {"valid_from": today.isoformat()},
    )


@bp.get("/helpers")
def helpers_page():
    _admin()
    return _page()


@bp.post("/helpers")
def register_helper():
    member = _admin()
    keys = ("name", "birth_date", "organisation", "valid_from", "valid_until")
    values = {k: request.form.get(k, "").strip() for k in keys}
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = "氏名を、マイナンバーカードのとおりに入力してください"
    if not values["organisation"]:
        errors["organisation"] = "所属を入力してください（例：デジタル推進委員）"
    for key, label in (("name", "氏名"), ("organisation", "所属")):
        if len(values[key]) > MAX_LENGTH:
            errors[key] = f"{label}は{MAX_LENGTH}文字以内で入力してください"
    dates = {}
    for key, label in (
        ("birth_date", "生年月日"),
        ("valid_from", "有効期間の開始日"),
        ("valid_until", "有効期間の終了日"),
    ):
        dates[key] = parse_date(values[key])
        if dates[key] is None:
            errors[key] = f"{label}を、例のように入力してください（例：2027-03-31）"
    today = clock.today_local()
    start, until, born = dates["valid_from"], dates["valid_until"], dates["birth_date"]
    if born and born >= today:
        errors["birth_date"] = "生年月日は今日より前の日付を入力してください"
    if start and until:
        if until < start:
            errors["valid_until"] = "有効期間の終了日は、開始日より後の日付を入力してください"
        elif until < today:
            errors["valid_until"] = (
                "有効期間の終了日が過ぎています。今日以降の日付を入力してください"
            )
        elif (until - start).days > 366 * MAX_YEARS:
            errors["valid_until"] = f"有効期間は{MAX_YEARS}年以内にしてください"
    if errors or born is None or start is None or until is None:
        return _page(errors, values), 400
    helper = assisted.register_helper(
        db.session,
        name=values["name"],
        birth_date=born,
        organisation=values["organisation"],
        valid_from=start,
        valid_until=until,
        actor=f"staff:{member.id}",
        now=clock.now(),
    )
    db.session.commit()
    flash(f"{helper.name}さん（{helper.organisation}）をお手伝いの方として登録しました。")
    return redirect(url_for(".helpers_page"), 303)


@bp.post("/helpers/<public_id>/revoke")
def revoke_helper(public_id: str):
    member = _admin()
    helper = assisted.helper_by_public_id(db.session, public_id)
    if helper is None:
        abort(404)
    if helper.revoked_at is None:
        ended = assisted.revoke_helper(
            db.session, helper, actor=f"staff:{member.id}", now=clock.now()
        )
        db.session.commit()
        note = f"進行中のお手伝い{ended}件も終了しました。" if ended else ""
        flash(f"{helper.name}さんのお手伝いの方としての登録を取り消しました。{note}")
    return redirect(url_for(".helpers_page"), 303)
