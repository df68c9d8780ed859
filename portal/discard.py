"""Discarding an abandoned draft or bundle (issue 22).

The signed-in resident who started an unsent draft or bundle may delete it: from 申請一覧 and
from the draft's or bundle's own pages, through a confirmation page (a POST with its CSRF token).
A draft goes with its uploaded files; a bundle with its member drafts and theirs
(portal.retention does the deleting, as for a stale draft). Anyone else — another resident, an
anonymous visitor, a draft already sent — gets 404. The audit entry names the resident's pairwise
`sub` and the draft's public id only, no answer.

A module of its own, not the engine's or the bundles' views: the engine imports no channel and
portal.retention imports both.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from portal import audit, clock
from portal.bundles import service as bundles
from portal.bundles.models import DRAFT as BUNDLE_DRAFT
from portal.bundles.models import Bundle
from portal.db import db
from portal.i18n import translate
from portal.localization import scope_title, shown_event
from portal.retention import service as retention
from portal.submissions import access
from portal.submissions import service as submissions
from portal.submissions.models import Submission

bp = Blueprint("discard", __name__)


def _resident_sub() -> str:
    user = session.get("user")
    if user is None:
        abort(404)
    return str(user["sub"])


def _record(sub: str, target: str) -> None:
    audit.record(
        db.session, actor=f"resident:{sub}", action="draft_discarded", target=target, at=clock.now()
    )


def _own_draft(sub: str, public_id: str) -> Submission:
    submission = submissions.owned(db.session, sub, public_id)
    if submission is None or not submissions.is_draft(submission) or submission.bundle_id:
        abort(404)  # a bundle's member goes with its bundle
    return submission


@bp.route("/my/applications/<public_id>/discard", methods=["GET", "POST"])
def draft(public_id: str) -> ResponseReturnValue:
    """「この申請を削除する」: confirm, then delete the draft and its files."""
    sub = _resident_sub()
    submission = _own_draft(sub, public_id)
    stored = submission.snapshot["procedure"]["title"]
    title = scope_title("procedure", submission.procedure_id, stored)
    if request.method == "POST":
        procedure_id = submission.procedure_id
        retention.delete_draft(db.session, access.services().files, submission.id)
        _record(sub, f"submission:{public_id}")
        db.session.commit()
        access.forget_draft(procedure_id)
        flash(translate("入力中の申請（%(title)s）を削除しました。", title=title))
        return redirect(url_for("submissions.my_applications"), 303)
    return render_template(
        "discard/confirm.html",
        title=title,
        heading="この申請を削除する",
        button="削除する",
        what="入力した内容と添付したファイルはすべて削除され、元に戻すことはできません。",
        back_url=url_for("submissions.my_applications"),
    )


def _own_bundle(sub: str, public_id: str) -> Bundle:
    bundle = bundles.owned(db.session, sub, public_id)
    if bundle is None or bundle.status != BUNDLE_DRAFT:
        abort(404)
    return bundle


@bp.route("/my/bundles/<public_id>/discard", methods=["GET", "POST"])
def bundle(public_id: str) -> ResponseReturnValue:
    """「まとめて申請をやめる」: confirm, then delete the bundle with every member draft."""
    sub = _resident_sub()
    found = _own_bundle(sub, public_id)
    label = str(shown_event(bundles.event_of(found)).label)
    if request.method == "POST":
        retention.delete_bundle(db.session, access.services().files, found, clock.now())
        _record(sub, f"bundle:{public_id}")
        db.session.commit()
        flash(
            translate("まとめて申請（%(label)s）をやめ、入力した内容を削除しました。", label=label)
        )
        return redirect(url_for("submissions.my_applications"), 303)
    return render_template(
        "discard/confirm.html",
        title=translate("%(label)s（まとめて申請）", label=label),
        heading="まとめて申請をやめる",
        button="まとめて申請をやめる",
        what=(
            "まとめて申請するために入力した内容（すべての手続の入力と添付したファイル）は"
            "すべて削除され、元に戻すことはできません。"
        ),
        back_url=url_for("submissions.my_applications"),
    )
