"""Flask extensions shared by the blueprints (instantiated here, initialised in create_app)."""

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
