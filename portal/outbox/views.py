"""The development mail page (/dev/mail): every message of the outbox, newest first, each with
its headers, body and attachments, so that mail can be read without a mail server.

Registered only outside production (portal/__init__.py): in production these URLs do not exist
(404), because the rows hold residents' addresses and mail. GET only; it changes nothing.
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, render_template, send_file
from sqlalchemy import select

from portal.db import db
from portal.outbox.models import CANCELLED, FAILED, PENDING, SENT, OutboxMessage

bp = Blueprint("dev_mail", __name__, url_prefix="/dev/mail")

LIST_LIMIT = 200
STATUS_LABELS = {PENDING: "送信待ち", SENT: "送信済み", FAILED: "送信失敗", CANCELLED: "取消し"}
KIND_LABELS = {
    "appointment_confirmation": "予約の確認",
    "appointment_reminder": "予約の前日のお知らせ",
    "appointment_cancelled": "予約の取消し",
}


@bp.context_processor
def _labels() -> dict:
    return {"status_labels": STATUS_LABELS, "kind_labels": KIND_LABELS}


@bp.get("")
def index():
    messages = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(LIST_LIMIT)
    ).all()
    return render_template("outbox/index.html", messages=messages, limit=LIST_LIMIT)


@bp.get("/<int:message_id>")
def message(message_id: int):
    found = _message(message_id)
    return render_template(
        "outbox/message.html",
        message=found,
        sender=current_app.config["MAIL_FROM"],
        backend=current_app.config["MAIL_BACKEND"],
    )


@bp.get("/<int:message_id>/attachments/<int:number>")
def attachment(message_id: int, number: int):
    """The attachment `number` (1 = the first) as a download."""
    attachments = _message(message_id).attachments or []
    if not 1 <= number <= len(attachments):
        abort(404)
    item = attachments[number - 1]
    mimetype = item["content_type"]
    if mimetype.startswith("text/") and "charset=" not in mimetype:
        mimetype += "; charset=utf-8"
    response = send_file(
        io.BytesIO(item["content"].encode("utf-8")),
        mimetype=mimetype,
        as_attachment=True,
        download_name=item["filename"],
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _message(message_id: int) -> OutboxMessage:
    found = db.session.get(OutboxMessage, message_id)
    if found is None:
        abort(404)
    return found
