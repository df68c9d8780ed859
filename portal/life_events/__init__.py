"""Life events (引越し, 出産, おくやみ ...): screening questions and the personal checklist."""

from portal.life_events.views import bp

__all__ = ["bp"]
