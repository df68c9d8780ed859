"""Gunicorn settings for `make run` and the container: threads so the portal can call its own mock
providers over HTTP, and an access log that records neither query strings nor secret paths."""

import gc
import os

from gunicorn.glogging import Logger

from portal.privacy import redact_path

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PORTAL_WORKERS", "2"))
threads = int(os.environ.get("PORTAL_THREADS", "4"))
worker_class = "gthread"
timeout = 60
graceful_timeout = 10
accesslog = os.environ.get("PORTAL_ACCESS_LOG", "-")
loglevel = os.environ.get("PORTAL_LOG_LEVEL", "info")
# gunicorn 27's control socket lives at one path per user: several servers on one machine (tests,
# benchmarks) would take it from each other, and the portal does not use it.
control_socket_disable = True
# %(U)s is the path without the query string (secret segments redacted below); the request id
# is the one the portal answered with (portal/observability.py), the proxy's when it sent one.
if os.environ.get("PORTAL_LOG_FORMAT", "").lower() == "json" or (
    os.environ.get("PORTAL_ENV") == "production" and not os.environ.get("PORTAL_LOG_FORMAT")
):
    access_log_format = (
        '{"time": "%(t)s", "logger": "access", "remote": "%(h)s", "method": "%(m)s", '
        '"path": "%(U)s", "status": %(s)s, "bytes": "%(B)s", "ms": %(M)s, '
        '"request_id": "%({x-request-id}o)s"}'
    )
else:
    access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms [%({x-request-id}o)s]'


def post_worker_init(_worker) -> None:
    """The application is loaded: its modules, catalog, templates and compiled SQL (some 200,000
    objects) live as long as the worker. Frozen, Python's full garbage collections no longer
    walk them (80-100 ms each, about twice a minute per busy worker before; decision 0073)."""
    gc.freeze()


class RedactingLogger(Logger):
    """Access and error logs without secret paths (at DEBUG the workers log request paths)."""

    def log(self, lvl, msg, *args, **kwargs):
        super().log(lvl, redact_path(str(msg)), *_redacted(args), **kwargs)

    def debug(self, msg, *args, **kwargs):
        super().debug(redact_path(str(msg)), *_redacted(args), **kwargs)

    def info(self, msg, *args, **kwargs):
        super().info(redact_path(str(msg)), *_redacted(args), **kwargs)

    def warning(self, msg, *args, **kwargs):
        super().warning(redact_path(str(msg)), *_redacted(args), **kwargs)

    def error(self, msg, *args, **kwargs):
        super().error(redact_path(str(msg)), *_redacted(args), **kwargs)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # Quotes and backslashes escaped: a path never breaks a log line (or a JSON one) apart.
        path = redact_path(environ.get("PATH_INFO")).replace("\\", "%5C").replace('"', "%22")
        atoms.update(U=path, r=f"{environ.get('REQUEST_METHOD')} {path}", q="-", f="-")
        return atoms


def _redacted(args: tuple) -> tuple:
    return tuple(redact_path(arg) if isinstance(arg, str) else arg for arg in args)


logger_class = RedactingLogger
