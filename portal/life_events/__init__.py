"""Life events (引越し, 出産, おくやみ ...): screening questions and the personal checklist."""

from flask import Blueprint

bp = Blueprint("life_events", __name__, url_prefix="/life-events")
