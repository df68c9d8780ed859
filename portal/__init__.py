"""The portal's application factory: load configuration, the catalog and extensions, wire the
blueprints. No logic lives here; an invalid catalog or configuration stops start-up with a
message that names the cause.
"""

from __future__ import annotations

from pathlib import Path
from types import CodeType

from flask import Flask
from jinja2.bccache import Bucket, BytecodeCache

from portal import clock, japanese, observability, procedures, rate_limits
from portal.catalog import CatalogError, load_catalog
from portal.config import ConfigError, load_config
from portal.db import db as database
from portal.extensions import csrf, limiter


class CompiledTemplates(BytecodeCache):
    """The templates' compiled code, shared by every app of the process (decision 0086).

    Jinja compiles a template once per environment, and each app has its own: a process that
    creates many apps (the tests create one per test) would parse and compile every template
    again for each. Jinja keys an entry by the template's name and checks it against a checksum
    of the template's source, so a changed template is compiled again."""

    def __init__(self) -> None:
        self._code: dict[str, tuple[str | None, CodeType]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        entry = self._code.get(bucket.key)
        if entry is not None and entry[0] == bucket.checksum:
            bucket.code = entry[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            self._code[bucket.key] = (bucket.checksum, bucket.code)


class PortalFlask(Flask):
    """Flask, remembering which hooks and views are plain functions.

    Flask asks `inspect.iscoroutinefunction` of every before/after-request hook, context
    processor, teardown and view on every request (about thirty times a page); the portal has
    no async function, and the answer for a function never changes (decision 0061)."""

    _SYNC_LIMIT = 4096
    jinja_options = {"bytecode_cache": CompiledTemplates()}  # noqa: RUF012 (Flask's own attribute)

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._plain_functions: set = set()

    def ensure_sync(self, func):  # type: ignore[no-untyped-def]
        try:
            if func in self._plain_functions:
                return func
        except TypeError:  # not hashable: asked every time, as Flask does
            return super().ensure_sync(func)
        made = super().ensure_sync(func)
        if made is func:
            if len(self._plain_functions) >= self._SYNC_LIMIT:
                self._plain_functions.clear()
            self._plain_functions.add(func)
        return made


def create_app(env: str | None = None, overrides: dict | None = None) -> Flask:
    config = load_config(env, overrides)
    app = PortalFlask(
        __name__, instance_path=config["INSTANCE_PATH"], instance_relative_config=False
    )
    # "//" in a path is a 404, never a redirect that echoes the path (decision 0044).
    app.url_map.merge_slashes = False
    app.config.update(config)
    if app.config["TRUSTED_PROXIES"]:
        # Behind N proxies (nginx: 1): the client address and scheme they pass on, never more
        # hops than configured (a client's own X-Forwarded-For entries are ignored).
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    # First: every later hook, log line and error page has the request id.
    observability.init_app(app)
    clock.configure(app.config["TEST_CLOCK_FILE"])
    catalog = load_catalog(app.config["CATALOG_PATH"])
    problems = procedures.check_hooks({p.id for p in catalog.procedures})
    if problems:
        raise CatalogError(Path(app.config["CATALOG_PATH"]), problems)
    app.extensions["catalog"] = catalog
    app.extensions["submission_services"] = _submission_services(app)

    database.init_app(app)
    from portal.identity.sessions import DatabaseSessionInterface

    app.session_interface = DatabaseSessionInterface()
    csrf.init_app(app)
    limiter.init_app(app)
    rate_limits.skip_idle_middleware(app, limiter)
    from portal import i18n

    i18n.init_app(app)
    from portal import localization

    localization.init_app(app)
    from portal import furigana

    furigana.init_app(app)

    # A package's blueprint is defined in its __init__; its pages are added by its route modules,
    # imported here (not by the __init__: importing a package's models or services never loads
    # its pages). See docs/decisions/0038-package-shape-and-import-rules.md.
    from portal import cli, web
    from portal.api import bp as api_bp
    from portal.api import views as _api_pages  # noqa: F401
    from portal.appointments.views import bp as appointments_bp
    from portal.assisted import bp as assisted_bp
    from portal.assisted import mode as assisted_mode
    from portal.assisted import practice as assisted_practice
    from portal.assisted import views as _assisted_pages  # noqa: F401
    from portal.bundles.views import bp as bundles_bp
    from portal.counter import bp as counter_bp
    from portal.discard import bp as discard_bp
    from portal.health import bp as health_bp
    from portal.kiosk import bp as kiosk_bp
    from portal.kiosk import certificates as _kiosk_certificates  # noqa: F401
    from portal.kiosk import handoff_bp as kiosk_handoff_bp
    from portal.kiosk import mode as kiosk_mode
    from portal.kiosk import views as _kiosk_pages  # noqa: F401
    from portal.life_events import bp as life_events_bp
    from portal.life_events import views as _life_event_pages  # noqa: F401
    from portal.pages import bp as pages_bp
    from portal.pages import views as _site_pages  # noqa: F401
    from portal.payments.views import bp as payments_bp
    from portal.staff import bp as staff_bp
    from portal.staff import views as _staff_pages  # noqa: F401
    from portal.staff.api import bp as staff_api_bp
    from portal.submissions import bp as submissions_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(submissions_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(staff_api_bp)
    app.register_blueprint(counter_bp)  # the visitor's screen of a counter application
    if app.config["PORTAL_ENV"] != "production":  # residents' mail: never served in production
        from portal.outbox.views import bp as dev_mail_bp

        app.register_blueprint(dev_mail_bp)
    app.register_blueprint(appointments_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(life_events_bp)
    app.register_blueprint(bundles_bp)
    app.register_blueprint(discard_bp)  # a resident deletes an unsent draft or bundle
    app.register_blueprint(kiosk_bp)  # a registered terminal at city hall (decision 0048)
    app.register_blueprint(kiosk_handoff_bp)
    kiosk_mode.init_app(app)
    app.register_blueprint(assisted_bp)  # a registered helper beside the resident (0054)
    assisted_mode.init_app(app)
    assisted_practice.init_app(app)  # the スマホ教室's practice (0056)
    if app.config["MOCK_JPKI_ENABLED"]:
        from portal.mock_jpki.provider import make_server
        from portal.mock_jpki.views import bp as mock_jpki_bp

        server, protector = make_server(app)
        app.extensions["mock_jpki_server"] = server
        app.extensions["mock_jpki_protector"] = protector
        app.register_blueprint(mock_jpki_bp)
    if app.config["MOCK_RECORDS_ENABLED"]:
        # The city's resident records, mocked from the demo people the mock card service also
        # reads (portal/demo_data); a real records adapter would be installed here instead.
        from portal.demo_data.people import load_personas, load_removed
        from portal.records.mock import MockResidentRecords

        app.extensions["resident_records"] = MockResidentRecords(
            load_personas(), lambda: database.session, removed=load_removed()
        )
    if app.config["MOCK_PAY_ENABLED"]:
        from portal.mock_pay.views import bp as mock_pay_bp

        app.register_blueprint(mock_pay_bp)
    _register_channels(app)
    from portal.identity import views as identity_views

    identity_views.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    return app


def _register_channels(app: Flask) -> None:
    """The channels on the submission engine register with its extension points
    (docs/decisions/0037-engine-extension-points.md), in the order their items show."""
    import portal.models  # noqa: F401  (every table: foreign keys name tables by string)
    from portal.appointments.engine import register_extensions as appointments
    from portal.assisted.engine import register_extensions as assisted
    from portal.assisted.practice import register_extensions as practice
    from portal.bundles.engine import register_extensions as bundles
    from portal.counter.engine import register_extensions as counter
    from portal.kiosk.engine import register_extensions as kiosk
    from portal.payments.engine import register_extensions as payments
    from portal.submissions import extensions

    registry = extensions.init_app(app)
    for register in (payments, appointments, bundles, counter, kiosk, assisted, practice):
        register(registry)


def _submission_services(app: Flask):
    from portal.submissions.service import Services
    from portal.uploads.scanners import scanner_from_config
    from portal.uploads.service import FileStore

    try:
        key = japanese.load_key(app.config["MY_NUMBER_KEY"])
        scanner = scanner_from_config(app.config["MALWARE_SCANNER"])
    except ValueError as error:
        raise ConfigError(str(error)) from error
    return Services(
        files=FileStore(),
        scanner=scanner,
        my_number_key=key,
        max_upload_bytes=app.config["MAX_UPLOAD_BYTES"],
    )
