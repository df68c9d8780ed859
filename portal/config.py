"""Configuration for the three environments: development, test and production.

Every setting comes from the environment (see `.env.example`). Development and test fill in safe
defaults so that `make run` works on a fresh machine; production refuses to start when a secret is
missing or a test-only switch (such as the settable clock) is on, refuses the mock card service,
the mock resident records and the mock payment service unless the deployment says it is a
demonstration (PORTAL_DEMO_DEPLOYMENT), refuses to start
without an SMTP server for its mail, and without the payment provider's API key and webhook
secret when a payment provider is configured. `validate()` is called by `create_app()` and raises
`ConfigError` with a message that names the setting.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A setting is missing or not allowed in this environment."""


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None


def _development_secret(instance_path: Path, name: str = "secret_key") -> str:
    """A per-checkout secret kept in instance/, shared by every gunicorn worker."""
    path = instance_path / name
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


# The portal's pages the card service sends residents back to (login, signing, the counter).
CALLBACK_PATHS = (
    "/login/callback",
    "/sign/callback",
    "/staff/counter/card",
    "/counter/sign/callback",
)


def _address_of(bind: str | None) -> str:
    """http://host:port of a gunicorn bind address (a wildcard host is reached on loopback)."""
    host, _, port = (bind or "127.0.0.1:8000").rpartition(":")
    if host in ("", "0.0.0.0", "[::]", "::"):  # noqa: S104 (the bind, not a listen here)
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def _derive_addresses(config: dict) -> None:
    """Every provider address not set on its own: from the portal's public address."""
    public = config["PUBLIC_URL"]
    if not public:
        return  # production without PORTAL_PUBLIC_URL: validate() refuses it
    config["JPKI_DISCOVERY_URL"] = (
        config["JPKI_DISCOVERY_URL"] or f"{public}/mock-jpki/.well-known/openid-configuration"
    )
    config["JPKI_REDIRECT_URIS"] = config["JPKI_REDIRECT_URIS"] or [
        public + path for path in CALLBACK_PATHS
    ]
    config["PAYMENT_API_URL"] = config["PAYMENT_API_URL"] or f"{public}/mock-pay/api"
    config["PAYMENT_WEBHOOK_URL"] = (
        config["PAYMENT_WEBHOOK_URL"] or f"{public}/payments/webhooks/mock"
    )
    config["MOCK_JPKI_ISSUER"] = config["MOCK_JPKI_ISSUER"] or f"{public}/mock-jpki"


def load_config(env: str | None = None, overrides: dict | None = None) -> dict:
    """Build the settings dictionary for `env` (default: $PORTAL_ENV or 'development')."""
    env = env or os.environ.get("PORTAL_ENV", "development")
    if env not in {"development", "test", "production"}:
        raise ConfigError(f"PORTAL_ENV must be development, test or production, not {env!r}")
    instance_path = Path(os.environ.get("PORTAL_INSTANCE_PATH", PROJECT_ROOT / "instance"))
    config: dict = {
        "PORTAL_ENV": env,
        "INSTANCE_PATH": str(instance_path),
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", f"sqlite:///{instance_path / 'portal.sqlite3'}"
        ),
        "SQL_ECHO": _env_flag("PORTAL_SQL_ECHO"),
        # Database connections per process, and how long a request waits for one before it is
        # answered 「混み合っています」 (503, Retry-After) instead of hanging.
        "DB_POOL_SIZE": int(os.environ.get("PORTAL_DB_POOL_SIZE", 10)),
        "DB_POOL_OVERFLOW": int(os.environ.get("PORTAL_DB_POOL_OVERFLOW", 5)),
        "DB_POOL_TIMEOUT": float(os.environ.get("PORTAL_DB_POOL_TIMEOUT", 10)),
        "LOG_LEVEL": os.environ.get("PORTAL_LOG_LEVEL", "INFO").upper(),
        # "text" or "json" (one object a line, for a log collector; production's default).
        "LOG_FORMAT": os.environ.get(
            "PORTAL_LOG_FORMAT", "json" if env == "production" else "text"
        ).lower(),
        "CATALOG_PATH": os.environ.get(
            "PORTAL_CATALOG_PATH", str(PROJECT_ROOT / "procedure_catalog.yaml")
        ),
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        # Keys the status-page links; rotating it invalidates links already handed out.
        "STATUS_LINK_KEY": os.environ.get("PORTAL_STATUS_LINK_KEY"),
        # 10 MiB: enough for the phone photos of a later issue, small enough to refuse abuse.
        "MAX_CONTENT_LENGTH": int(os.environ.get("PORTAL_MAX_CONTENT_LENGTH", 10 * 1024 * 1024)),
        "MAX_FORM_MEMORY_SIZE": 512 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session; see decisions
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        # Test-only: a file holding an ISO datetime that portal.clock.now() returns.
        "TEST_CLOCK_FILE": os.environ.get("PORTAL_TEST_CLOCK_FILE"),
        "TESTING": env == "test",
        # 32-byte key (64 hex characters) that encrypts My Numbers at rest.
        "MY_NUMBER_KEY": os.environ.get("PORTAL_MY_NUMBER_KEY"),
        "MAX_UPLOAD_BYTES": int(os.environ.get("PORTAL_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)),
        # "eicar-test" (demo scanner: refuses the EICAR test file only) or clamd://host:port
        "MALWARE_SCANNER": os.environ.get("PORTAL_MALWARE_SCANNER", "eicar-test"),
        # Rate limits (flask-limiter), with counters shared by every process and instance.
        "RATELIMIT_ENABLED": _env_flag("PORTAL_RATELIMIT_ENABLED", True),
        # Redis (redis://host:port/db): the counters every instance shares; required in
        # production, checked by the readiness endpoint. Without it the database keeps them
        # (portal/rate_limits.py); memory:// would count per process.
        "REDIS_URL": os.environ.get("PORTAL_REDIS_URL") or None,
        # Derived after the overrides: PORTAL_RATELIMIT_STORAGE_URI, else Redis, else portal+db://.
        "RATELIMIT_STORAGE_URI": os.environ.get("PORTAL_RATELIMIT_STORAGE_URI") or None,
        # When the counters' storage fails (Redis stopped, unreachable): each process counts in
        # memory meanwhile (logged once, retried with backoff up to 32 s) and nothing fails;
        # the portal stays up, the limits still hold per process (decision 0053).
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SAVE": os.environ.get("PORTAL_RATELIMIT_SAVE", "60 per minute"),
        "RATELIMIT_SUBMIT": os.environ.get("PORTAL_RATELIMIT_SUBMIT", "20 per minute"),
        "RATELIMIT_RESUME": os.environ.get("PORTAL_RATELIMIT_RESUME", "10 per minute"),
        # Booking, rescheduling and cancelling appointments, per client address.
        "RATELIMIT_BOOKING": os.environ.get("PORTAL_RATELIMIT_BOOKING", "30 per minute"),
        # Upcoming appointments one resident (login or e-mail address) may hold at once.
        "APPOINTMENTS_PER_RESIDENT": int(os.environ.get("PORTAL_APPOINTMENTS_PER_RESIDENT", 3)),
        # Starting a login, per client address; and failed login callbacks before a lockout.
        "RATELIMIT_LOGIN": os.environ.get("PORTAL_RATELIMIT_LOGIN", "10 per minute"),
        "RATELIMIT_LOGIN_FAILURES": os.environ.get(
            "PORTAL_RATELIMIT_LOGIN_FAILURES", "5 per 15 minutes"
        ),
        # A demonstration (banner on every page; may run the mock card service in production).
        "DEMO_DEPLOYMENT": _env_flag("PORTAL_DEMO_DEPLOYMENT", env != "production"),
        # The mock My Number card service (demo only): on unless production.
        "MOCK_JPKI_ENABLED": _env_flag("PORTAL_MOCK_JPKI_ENABLED", env != "production"),
        "MOCK_JPKI_ISSUER": os.environ.get("PORTAL_MOCK_JPKI_ISSUER"),
        # Reverse proxies in front of the portal whose X-Forwarded-For and X-Forwarded-Proto it
        # believes (werkzeug's ProxyFix): 0 (direct, the default) or the number of hops, 1 behind
        # one nginx. The client address they give keys the rate limits and the login lockout;
        # a count above the real number of proxies would let a client choose its own address.
        "TRUSTED_PROXIES": _env_int("PORTAL_TRUSTED_PROXIES", 0),
        # How long a worker's claim on a job lasts before another worker takes the job over (its
        # worker died): every job must finish well within it. Default 30 minutes.
        "JOB_LEASE_SECONDS": _env_int("PORTAL_JOB_LEASE_SECONDS", 30 * 60),
        # More job kinds for the worker ("module:ATTRIBUTE" naming a JobKind, space separated):
        # a city's own jobs, or the layout test's (tests/layout/jobs.py).
        "EXTRA_JOB_KINDS": os.environ.get("PORTAL_EXTRA_JOB_KINDS", "").split(),
        # The name this instance gives in its X-Portal-Instance response header and its log
        # lines (e.g. the host or container name), so an operator sees which instance answered.
        "INSTANCE_NAME": os.environ.get("PORTAL_INSTANCE_NAME", ""),
        # The portal's own public address (scheme://host[:port]): every link it hands out, and
        # by default every address it gives the card service and the payment provider, starts
        # with it. Development derives it from the address gunicorn binds (PORTAL_BIND, which
        # `make run PORT=...` sets); production requires it, and requires https.
        "PUBLIC_URL": (
            os.environ.get("PORTAL_PUBLIC_URL")
            or ("" if env == "production" else _address_of(os.environ.get("PORTAL_BIND")))
        ).rstrip("/"),
        # The mock resident records (demo only; the demo people of portal/demo_data): on unless
        # production. Off, procedures read no records unless a real adapter is installed.
        "MOCK_RECORDS_ENABLED": _env_flag("PORTAL_MOCK_RECORDS_ENABLED", env != "production"),
        # JSON list of relying parties: [{"client_id", "client_secret", "redirect_uris": [...]}]
        "MOCK_JPKI_CLIENTS": os.environ.get("PORTAL_MOCK_JPKI_CLIENTS", "[]"),
        # The portal as a relying party of the card service (the mock, or the real one).
        # Default: the mock under the portal's own address (PUBLIC_URL).
        "JPKI_DISCOVERY_URL": os.environ.get("PORTAL_JPKI_DISCOVERY_URL"),
        "JPKI_CLIENT_ID": os.environ.get("PORTAL_JPKI_CLIENT_ID", "isumi-portal"),
        "JPKI_CLIENT_SECRET": os.environ.get("PORTAL_JPKI_CLIENT_SECRET"),
        # Where the card service sends residents back (login and signing); registered with it.
        # Default: the portal's callbacks (CALLBACK_PATHS) under its own address.
        "JPKI_REDIRECT_URIS": os.environ.get("PORTAL_JPKI_REDIRECT_URIS", "").split(),
        # Which provider logs residents in (portal.identity.providers.PROVIDERS).
        "IDENTITY_PROVIDER": os.environ.get("PORTAL_IDENTITY_PROVIDER", "jpki"),
        # The trust anchor for signatures and its revocation list (default: next to discovery).
        "JPKI_CA_ROOT_URL": os.environ.get("PORTAL_JPKI_CA_ROOT_URL"),
        "JPKI_CRL_URL": os.environ.get("PORTAL_JPKI_CRL_URL"),
        # Mail (portal/outbox): "outbox" keeps it in the database for the development mail page
        # (/dev/mail); "smtp" sends it, and is the only backend production accepts.
        "MAIL_BACKEND": os.environ.get(
            "PORTAL_MAIL_BACKEND", "smtp" if env == "production" else "outbox"
        ),
        "MAIL_FROM": os.environ.get(
            "PORTAL_MAIL_FROM", None if env == "production" else "noreply@localhost"
        ),
        "MAIL_SMTP_HOST": os.environ.get("PORTAL_MAIL_SMTP_HOST"),
        "MAIL_SMTP_PORT": int(os.environ.get("PORTAL_MAIL_SMTP_PORT", 587)),
        "MAIL_SMTP_USERNAME": os.environ.get("PORTAL_MAIL_SMTP_USERNAME"),
        "MAIL_SMTP_PASSWORD": os.environ.get("PORTAL_MAIL_SMTP_PASSWORD"),
        "MAIL_SMTP_STARTTLS": _env_flag("PORTAL_MAIL_SMTP_STARTTLS", True),
        # Cashless payment of fees: the provider the portal uses ("mock": the mock payment
        # service below, over HTTP). Production has none until one is configured.
        "PAYMENT_PROVIDER": os.environ.get(
            "PORTAL_PAYMENT_PROVIDER", "" if env == "production" else "mock"
        ),
        # Default: the mock payment service under the portal's own address.
        "PAYMENT_API_URL": os.environ.get("PORTAL_PAYMENT_API_URL"),
        # Shared with the provider: the portal's API key there, and the secret its webhooks are
        # signed with. Required in production; fixed demo values otherwise (the mock uses them).
        "PAYMENT_API_KEY": os.environ.get(
            "PORTAL_PAYMENT_API_KEY", None if env == "production" else "mock-pay-api-key"
        ),
        "PAYMENT_WEBHOOK_SECRET": os.environ.get(
            "PORTAL_PAYMENT_WEBHOOK_SECRET",
            None if env == "production" else "mock-pay-webhook-secret",
        ),
        # More origins a form may be sent on to by a redirect (CSP form-action), beyond the
        # card service's and the payment API's (portal.web.content_security_policy).
        "CSP_FORM_ACTION": os.environ.get("PORTAL_CSP_FORM_ACTION", "").split(),
        # Where the mock payment service sends its webhooks (the portal's receiver).
        "PAYMENT_WEBHOOK_URL": os.environ.get("PORTAL_PAYMENT_WEBHOOK_URL"),
        # The mock payment service (demo only): on unless production.
        # Where the notice of each fee paid goes (the city's accounting); none when empty.
        "PAYMENT_NOTIFY_ADDRESS": os.environ.get(
            "PORTAL_PAYMENT_NOTIFY_ADDRESS",
            "" if env == "production" else "kaikei@isumi.example.jp",
        ),
        "MOCK_PAY_ENABLED": _env_flag("PORTAL_MOCK_PAY_ENABLED", env != "production"),
        # Faults its webhook delivery injects: comma list of duplicate, reorder, delay, drop,
        # bad_signature (read on every delivery run).
        "MOCK_PAY_FAULTS": os.environ.get("PORTAL_MOCK_PAY_FAULTS", ""),
        # Kiosk mode (docs/decisions/0048-kiosk-mode.md): seconds without a touch before the
        # warning (with 続ける) and before the visit is wiped; the procedures and the services
        # a kiosk offers (comma lists); how long a 「続きはスマートフォンで」 code lasts.
        "KIOSK_IDLE_WARNING_SECONDS": int(os.environ.get("PORTAL_KIOSK_IDLE_WARNING_SECONDS", 60)),
        "KIOSK_IDLE_RESET_SECONDS": int(os.environ.get("PORTAL_KIOSK_IDLE_RESET_SECONDS", 90)),
        "KIOSK_PROCEDURES": _list(
            os.environ.get(
                "PORTAL_KIOSK_PROCEDURES",
                "juminhyo-copy,ninshin-todoke,shotoku-shomei,koseki-shomei,kokuho-kanyu-dattai",
            )
        ),
        "KIOSK_SERVICES": _list(
            os.environ.get("PORTAL_KIOSK_SERVICES", "procedures,checkin,certificates,staff-call")
        ),
        "KIOSK_HANDOFF_MINUTES": int(os.environ.get("PORTAL_KIOSK_HANDOFF_MINUTES", 30)),
        # The receipt printer's paper width for queue slips (A4 documents print as A4).
        "KIOSK_PAPER_WIDTH_MM": int(os.environ.get("PORTAL_KIOSK_PAPER_WIDTH_MM", 80)),
    }
    if env != "production":
        config["SECRET_KEY"] = config["SECRET_KEY"] or _development_secret(instance_path)
        config["MY_NUMBER_KEY"] = config["MY_NUMBER_KEY"] or _development_secret(
            instance_path, "my_number_key"
        )
    config["STATUS_LINK_KEY"] = config["STATUS_LINK_KEY"] or config["SECRET_KEY"]
    if not config["JPKI_CLIENT_SECRET"] and config["SECRET_KEY"] and env != "production":
        # Development and tests: a secret derived from SECRET_KEY, shared with the mock.
        import hashlib

        config["JPKI_CLIENT_SECRET"] = hashlib.sha256(
            f"jpki-client|{config['SECRET_KEY']}".encode()
        ).hexdigest()
    config.update(overrides or {})
    config["RATELIMIT_STORAGE_URI"] = (
        config["RATELIMIT_STORAGE_URI"] or config["REDIS_URL"] or "portal+db://"
    )
    if config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        # A Redis that hangs must not hold a request: half a second, then the fallback above.
        config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
        )
    _derive_addresses(config)
    discovery = config["JPKI_DISCOVERY_URL"] or ""
    provider_base = discovery.removesuffix("/.well-known/openid-configuration")
    config["JPKI_CA_ROOT_URL"] = config["JPKI_CA_ROOT_URL"] or f"{provider_base}/ca/root.pem"
    config["JPKI_CRL_URL"] = config["JPKI_CRL_URL"] or f"{provider_base}/ca/crl.pem"
    validate(config)
    return config


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


KIOSK_SERVICES = ("procedures", "checkin", "certificates", "staff-call")


def _validate_kiosk(config: dict) -> None:
    warning, reset = config["KIOSK_IDLE_WARNING_SECONDS"], config["KIOSK_IDLE_RESET_SECONDS"]
    if not 10 <= warning < reset:
        raise ConfigError(
            "PORTAL_KIOSK_IDLE_WARNING_SECONDS must be at least 10 and less than "
            "PORTAL_KIOSK_IDLE_RESET_SECONDS"
        )
    unknown = sorted(set(config["KIOSK_SERVICES"]) - set(KIOSK_SERVICES))
    if unknown:
        raise ConfigError(f"PORTAL_KIOSK_SERVICES: unknown service(s) {', '.join(unknown)}")
    if not 1 <= config["KIOSK_HANDOFF_MINUTES"] <= 120:
        raise ConfigError("PORTAL_KIOSK_HANDOFF_MINUTES must be between 1 and 120")
    if not 48 <= config["KIOSK_PAPER_WIDTH_MM"] <= 120:
        raise ConfigError("PORTAL_KIOSK_PAPER_WIDTH_MM must be between 48 and 120 (58, 80: rolls)")


def validate(config: dict) -> None:
    """Refuse settings that must never reach production."""
    if config["LOG_FORMAT"] not in {"text", "json"}:
        raise ConfigError(f"PORTAL_LOG_FORMAT must be text or json, not {config['LOG_FORMAT']!r}")
    _validate_kiosk(config)
    proxies = config.get("TRUSTED_PROXIES", 0)
    if not isinstance(proxies, int) or not 0 <= proxies <= 5:
        raise ConfigError(
            f"PORTAL_TRUSTED_PROXIES must be the number of proxies in front (0 to 5), "
            f"not {proxies!r}"
        )
    if not 10 <= config.get("JOB_LEASE_SECONDS", 1800) <= 24 * 3600:
        raise ConfigError(
            "PORTAL_JOB_LEASE_SECONDS must be between 10 seconds and a day "
            "(longer than any job takes)"
        )
    if config.get("INSTANCE_NAME") and not re.fullmatch(
        r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}", config["INSTANCE_NAME"]
    ):
        raise ConfigError(
            "PORTAL_INSTANCE_NAME: letters, digits, '.', '_' and '-' only (at most 63)"
        )
    if config["PORTAL_ENV"] != "production":
        _validate_mail(config)
        _validate_payments(config)
        return
    if not config.get("SECRET_KEY") or len(config["SECRET_KEY"]) < 32:
        raise ConfigError("SECRET_KEY must be set (at least 32 characters) in production")
    if config.get("TEST_CLOCK_FILE"):
        raise ConfigError(
            "PORTAL_TEST_CLOCK_FILE is a test-only setting: production refuses to start with it"
        )
    if config.get("TESTING"):
        raise ConfigError("TESTING must not be enabled in production")
    if not config.get("JPKI_CLIENT_SECRET"):
        raise ConfigError("PORTAL_JPKI_CLIENT_SECRET must be set in production")
    if not config.get("MY_NUMBER_KEY"):
        raise ConfigError("PORTAL_MY_NUMBER_KEY must be set in production (64 hex characters)")
    if config.get("MOCK_JPKI_ENABLED") and not config.get("DEMO_DEPLOYMENT"):
        raise ConfigError(
            "PORTAL_MOCK_JPKI_ENABLED: the mock My Number card service is a demo provider; "
            "production refuses it unless this is an explicit demo: set PORTAL_DEMO_DEPLOYMENT=1"
        )
    if config.get("MOCK_RECORDS_ENABLED") and not config.get("DEMO_DEPLOYMENT"):
        raise ConfigError(
            "PORTAL_MOCK_RECORDS_ENABLED: the mock resident records answer from fictional demo "
            "people; production refuses them unless this is an explicit demo: set "
            "PORTAL_DEMO_DEPLOYMENT=1"
        )
    if config.get("MOCK_PAY_ENABLED") and not config.get("DEMO_DEPLOYMENT"):
        raise ConfigError(
            "PORTAL_MOCK_PAY_ENABLED: the mock payment service is a demo provider; "
            "production refuses it unless this is an explicit demo: set PORTAL_DEMO_DEPLOYMENT=1"
        )
    if config.get("MALWARE_SCANNER") == "eicar-test":
        raise ConfigError(
            "PORTAL_MALWARE_SCANNER is the demo scanner 'eicar-test': production needs clamd://"
        )
    _validate_mail(config)
    _validate_payments(config)
    if not config.get("PUBLIC_URL", "").startswith("https://"):
        raise ConfigError(
            "PORTAL_PUBLIC_URL must be set in production to the portal's https:// address "
            "(every link it hands out starts with it)"
        )
    if not config.get("REDIS_URL"):
        raise ConfigError(
            "PORTAL_REDIS_URL must be set in production: the rate limits and lockouts of every "
            "instance count in one Redis"
        )
    if config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        raise ConfigError(
            "PORTAL_RATELIMIT_STORAGE_URI=memory:// counts per process: production refuses it"
        )


def _validate_payments(config: dict) -> None:
    from portal.mock_pay.faults import parse_faults

    try:
        parse_faults(config.get("MOCK_PAY_FAULTS"))
    except ValueError as error:
        raise ConfigError(f"PORTAL_MOCK_PAY_FAULTS: {error}") from None
    if config["PORTAL_ENV"] != "production":
        return
    provider = config.get("PAYMENT_PROVIDER")
    if provider == "mock" and not config.get("DEMO_DEPLOYMENT"):
        raise ConfigError(
            "PORTAL_PAYMENT_PROVIDER=mock: the mock payment service is a demo provider; "
            "production refuses it unless this is an explicit demo: set PORTAL_DEMO_DEPLOYMENT=1"
        )
    if provider or config.get("MOCK_PAY_ENABLED"):
        for name in ("PAYMENT_API_KEY", "PAYMENT_WEBHOOK_SECRET"):
            if not config.get(name):
                raise ConfigError(
                    f"PORTAL_{name} must be set in production when a payment provider is "
                    "configured (PORTAL_PAYMENT_PROVIDER or PORTAL_MOCK_PAY_ENABLED)"
                )


def _validate_mail(config: dict) -> None:
    backend = config.get("MAIL_BACKEND")
    if backend not in {"outbox", "smtp"}:
        raise ConfigError(f"PORTAL_MAIL_BACKEND must be outbox or smtp, not {backend!r}")
    production = config["PORTAL_ENV"] == "production"
    if production and backend != "smtp":
        raise ConfigError(
            "PORTAL_MAIL_BACKEND=outbox only keeps mail in the database (development): "
            "production sends it, set PORTAL_MAIL_BACKEND=smtp"
        )
    if backend == "smtp" and not config.get("MAIL_SMTP_HOST"):
        raise ConfigError(
            "PORTAL_MAIL_SMTP_HOST must be set"
            + (" in production" if production else " for PORTAL_MAIL_BACKEND=smtp")
            + ": appointment confirmations and reminders are sent through that SMTP server"
        )
    if backend == "smtp" and not config.get("MAIL_FROM"):
        raise ConfigError(
            "PORTAL_MAIL_FROM must be set (the sender address, e.g. noreply@city.example.jp)"
        )
    if production and config.get("MAIL_SMTP_PASSWORD") and not config.get("MAIL_SMTP_STARTTLS"):
        raise ConfigError(
            "PORTAL_MAIL_SMTP_PASSWORD would be sent unencrypted: production needs "
            "PORTAL_MAIL_SMTP_STARTTLS=1 to log in to the SMTP server"
        )
