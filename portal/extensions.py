"""Flask extensions shared by the blueprints (instantiated here, initialised in create_app)."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from portal import rate_limits  # noqa: F401  (registers the portal+db:// limits storage)

csrf = CSRFProtect()
# Limits are set per view (saving a step, submitting, resuming); storage and switches come from
# RATELIMIT_* settings (Redis when configured, else the database: portal/rate_limits.py).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
