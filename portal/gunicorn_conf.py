"""Gunicorn settings for `make run` and the container: threads so the portal can call its own mock
providers over HTTP, and an access log that records neither query strings nor secret paths."""

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
# %(U)s is the path without the query string.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = redact_path(environ.get("PATH_INFO"))
        atoms.update(U=path, r=f"{environ.get('REQUEST_METHOD')} {path}", q="-", f="-")
        return atoms


logger_class = RedactingLogger
