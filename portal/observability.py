"""Request ids and structured logs across proxy, web and worker (issue 24).

- **Request id.** Every request has one: the proxy's `X-Request-ID` when it is well formed (nginx
  sets `$request_id`), otherwise a new random one; never a raw value from outside. It is sent
  back in the `X-Request-ID` response header, is on every log line written while the request
  runs, and travels with each job the request enqueues (`jobs.request_id`), so the worker's lines
  about that job carry it too.
- **One access line per request** is gunicorn's (portal/gunicorn_conf.py): it carries the id
  from the response header, and redacts secret path segments; never the query string.
- **JSON lines** when `PORTAL_LOG_FORMAT=json` (production's default): one object per line with
  time, level, logger, message and request id, for the city's log collector.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import time

from flask import Flask, current_app, g, has_request_context, request
from werkzeug.wrappers import Response

HEADER = "X-Request-ID"
# Which instance answered (PORTAL_INSTANCE_NAME), when it has a name.
INSTANCE_HEADER = "X-Portal-Instance"
# What a proxy may hand us: ids of our own shape or nginx's 32 hex digits, never anything else.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}")

# The id of the work in hand outside a request (the worker sets it while it runs a job).
work_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("work_id", default=None)


def new_request_id() -> str:
    return secrets.token_hex(16)


def accepted_request_id(value: str | None) -> str:
    """The proxy's id when it is well formed; otherwise a new one."""
    if value and _WELL_FORMED.fullmatch(value):
        return value
    return new_request_id()


def current_request_id() -> str | None:
    """The id of the request (or worker job) in hand, if any."""
    if has_request_context():
        return g.get("request_id")
    return work_id.get()


class RequestIdFilter(logging.Filter):
    """Puts `request_id` on every record ("-" outside a request or job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


JsonFormatter.converter = time.gmtime


def configure_logging(level: str, log_format: str) -> None:
    """The root logger's handlers get the request id, and JSON lines when asked."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level)
    root.setLevel(level)
    for handler in root.handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
        else:
            handler.setFormatter(
                logging.Formatter("%(levelname)s [%(request_id)s] %(name)s: %(message)s")
            )


def init_app(app: Flask) -> None:
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])

    @app.before_request
    def _request_id() -> None:
        g.request_id = accepted_request_id(request.headers.get(HEADER))

    @app.after_request
    def _answer_with_the_id(response: Response) -> Response:
        instance = current_app.config.get("INSTANCE_NAME")
        if instance:
            response.headers[INSTANCE_HEADER] = instance
        # A request refused before the id was taken (the input guard runs first) gets a new one.
        response.headers[HEADER] = g.setdefault("request_id", new_request_id())
        return response
