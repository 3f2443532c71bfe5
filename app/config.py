"""Configuration classes: the environment is parsed once, into typed values.

Code reads ``current_app.config``; nothing else looks at ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path


class ConfigError(SystemExit):
    """A missing or malformed setting: the process stops with one clear line."""

    def __init__(self, message: str):
        super().__init__(f"Configuration error: {message}")


class _Env:
    def __init__(self, environ: Mapping[str, str]):
        self.environ = environ

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.environ.get(name)
        return default if value is None or value.strip() == "" else value.strip()

    def int(self, name: str, default: int) -> int:
        raw = self.str(name)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None

    def bool(self, name: str, default: bool) -> bool:
        raw = self.str(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name} must be true or false, got {raw!r}")

    def decimal(self, name: str, default: str) -> Decimal:
        raw = self.str(name, default)
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise ConfigError(f"{name} must be a decimal number, got {raw!r}") from None
        if not value.is_finite():
            raise ConfigError(f"{name} must be a finite decimal number, got {raw!r}")
        return value

    def list(self, name: str, default: list[str]) -> list[str]:
        raw = self.str(name)
        if raw is None:
            return default
        return [item.strip() for item in raw.split(",") if item.strip()]


def normalize_database_url(url: str) -> str:
    """Bind PostgreSQL URLs to the pinned psycopg2 driver (``postgres://`` included)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def rate_limits_per_process(storage_uri: str) -> bool:
    """True when the limiter counts in this process's memory, not in a shared store."""
    return storage_uri.startswith("memory://")


MPESA_BASE_URLS = {
    "sandbox": "https://sandbox.safaricom.co.ke",
    "production": "https://api.safaricom.co.ke",
}


class Config:
    """Defaults shared by every environment; subclasses override what differs."""

    NAME = "base"
    DEBUG = False
    TESTING = False
    REQUIRED: tuple[str, ...] = ()

    def __init__(self, environ: Mapping[str, str] | None = None, instance_path: str = "instance"):
        env = _Env(os.environ if environ is None else environ)
        self._check_required(env)
        self.ENV_NAME = self.NAME
        # Fixed per environment (class attributes), copied so that as_dict() carries them.
        self.DEBUG, self.TESTING = type(self).DEBUG, type(self).TESTING

        self.SECRET_KEY = env.str("SECRET_KEY", "dev-secret-key-change-me-0123456789abcdef")
        # Earlier secret keys, still accepted to open what they signed or sealed (rotation).
        self.SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", [])
        self.JWT_SECRET_KEY = env.str("JWT_SECRET_KEY", "dev-jwt-secret-change-me-0123456789abcdef")
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(seconds=env.int("JWT_ACCESS_TOKEN_EXPIRES", 900))
        self.JWT_REFRESH_TOKEN_EXPIRES = timedelta(
            seconds=env.int("JWT_REFRESH_TOKEN_EXPIRES", 604800)
        )
        self.JWT_TOKEN_LOCATION = ["headers"]
        # bcrypt work factor: 12 measured p50 245 ms per login on one core (scripts/bench_login.py)
        self.BCRYPT_ROUNDS = env.int("BCRYPT_ROUNDS", 12)
        self.JWT_ERROR_MESSAGE_KEY = "message"

        default_db = f"sqlite:///{Path(instance_path, self.default_database_name()).resolve()}"
        self.SQLALCHEMY_DATABASE_URI = normalize_database_url(self.database_url(env) or default_db)
        self.SQLALCHEMY_ENGINE_OPTIONS = self.engine_options(self.SQLALCHEMY_DATABASE_URI)

        self.PORT = env.int("PORT", 5000)
        self.FRONTEND_URL = env.str("FRONTEND_URL", "http://localhost:5173")
        self.BACKEND_URL = env.str("BACKEND_URL", f"http://localhost:{self.PORT}").rstrip("/")
        self.CORS_ORIGINS = env.list("CORS_ORIGINS", [self.FRONTEND_URL])
        self.MAX_CONTENT_LENGTH = env.int("MAX_CONTENT_LENGTH", 10 * 1024 * 1024)
        self.REDIS_URL = env.str("REDIS_URL")
        self.REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", "qg:")

        self.RATELIMIT_ENABLED = env.bool("RATELIMIT_ENABLED", True)
        # Where the limiter counts: memory:// is per process (each gunicorn worker allows
        # the whole limit), so production needs a shared store (Redis by default).
        self.RATELIMIT_STORAGE_URI = env.str("RATELIMIT_STORAGE_URI", self.REDIS_URL or "memory://")
        self.RATELIMIT_HEADERS_ENABLED = True
        self.RATELIMIT_DEFAULT = env.str("RATELIMIT_DEFAULT", "600 per minute")

        self.MAIL_SERVER = env.str("MAIL_SERVER", "smtp.gmail.com")
        self.MAIL_PORT = env.int("MAIL_PORT", 587)
        self.MAIL_USE_TLS = env.bool("MAIL_USE_TLS", True)
        self.MAIL_USERNAME = env.str("MAIL_USERNAME")
        self.MAIL_PASSWORD = env.str("MAIL_PASSWORD")
        self.MAIL_DEFAULT_SENDER = env.str(
            "MAIL_DEFAULT_SENDER", self.MAIL_USERNAME or "no-reply@quantumgear.co.ke"
        )

        # Email outbox: a failed SMTP send is retried with exponential back-off, at most
        # MAIL_MAX_ATTEMPTS times, then the email is DEAD (GET /api/admin/emails).
        self.MAIL_MAX_ATTEMPTS = env.int("MAIL_MAX_ATTEMPTS", 8)
        # smtplib's protocol dump on stdout (Flask-Mail's default follows DEBUG)
        self.MAIL_DEBUG = env.bool("MAIL_DEBUG", False)

        # Images: Cloudinary when all three CLOUDINARY_* are set, else local disk under
        # UPLOAD_DIR served at /media/. Every upload is checked and re-encoded.
        self.CLOUDINARY_CLOUD_NAME = env.str("CLOUDINARY_CLOUD_NAME")
        self.CLOUDINARY_API_KEY = env.str("CLOUDINARY_API_KEY")
        self.CLOUDINARY_API_SECRET = env.str("CLOUDINARY_API_SECRET")
        self.CLOUDINARY_UPLOAD_PREFIX = env.str(
            "CLOUDINARY_UPLOAD_PREFIX", "https://api.cloudinary.com"
        ).rstrip("/")
        self.CLOUDINARY_FOLDER = env.str("CLOUDINARY_FOLDER", "quantumgear")
        self.UPLOAD_DIR = str(
            Path(env.str("UPLOAD_DIR", str(Path(instance_path, "uploads")))).resolve()
        )
        self.UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
        self.UPLOAD_MAX_PIXELS = env.int("UPLOAD_MAX_PIXELS", 40_000_000)
        # HTTPS hosts whose images products may link to besides our own uploads.
        self.ALLOWED_IMAGE_HOSTS = env.list(
            "ALLOWED_IMAGE_HOSTS", ["res.cloudinary.com", "images.quantumgear.co.ke"]
        )

        self.GOOGLE_CLIENT_ID = env.str("GOOGLE_CLIENT_ID")
        self.GOOGLE_CLIENT_SECRET = env.str("GOOGLE_CLIENT_SECRET")
        self.GOOGLE_REDIRECT_URI = env.str(
            "GOOGLE_REDIRECT_URI", f"{self.BACKEND_URL}/api/auth/google/callback"
        )

        self.MPESA_CONSUMER_KEY = env.str("MPESA_CONSUMER_KEY")
        self.MPESA_CONSUMER_SECRET = env.str("MPESA_CONSUMER_SECRET")
        self.MPESA_SHORTCODE = env.str("MPESA_SHORTCODE", "174379")
        self.MPESA_PASSKEY = env.str("MPESA_PASSKEY")
        self.MPESA_CALLBACK_URL = env.str(
            "MPESA_CALLBACK_URL", f"{self.BACKEND_URL}/api/payments/mpesa/callback"
        )
        self.MPESA_ENVIRONMENT = env.str("MPESA_ENVIRONMENT", "sandbox")
        if self.MPESA_ENVIRONMENT not in MPESA_BASE_URLS:
            raise ConfigError("MPESA_ENVIRONMENT must be 'sandbox' or 'production'")
        self.MPESA_BASE_URL = env.str(
            "MPESA_BASE_URL", MPESA_BASE_URLS[self.MPESA_ENVIRONMENT]
        ).rstrip("/")
        self.MPESA_CALLBACK_TOKEN = env.str("MPESA_CALLBACK_TOKEN")
        self.MPESA_INITIATOR_NAME = env.str("MPESA_INITIATOR_NAME")
        self.MPESA_SECURITY_CREDENTIAL = env.str("MPESA_SECURITY_CREDENTIAL")
        self.MPESA_B2C_SHORTCODE = env.str("MPESA_B2C_SHORTCODE", self.MPESA_SHORTCODE)

        self.PAYSTACK_SECRET_KEY = env.str("PAYSTACK_SECRET_KEY")
        self.PAYSTACK_PUBLIC_KEY = env.str("PAYSTACK_PUBLIC_KEY")
        self.PAYSTACK_BASE_URL = env.str("PAYSTACK_BASE_URL", "https://api.paystack.co").rstrip("/")
        credentials_present = bool(
            self.MPESA_CONSUMER_KEY and self.MPESA_CONSUMER_SECRET and self.PAYSTACK_SECRET_KEY
        )
        self.PAYMENTS_SIMULATOR = env.bool("PAYMENTS_SIMULATOR", not credentials_present)
        self.PAYMENTS_SIMULATOR_DELAY_SECONDS = env.int("PAYMENTS_SIMULATOR_DELAY_SECONDS", 3)
        # A success callback pays only once an STK Push Query confirms it.
        self.MPESA_CONFIRM_CALLBACKS = env.bool("MPESA_CONFIRM_CALLBACKS", True)

        # Contact form: relayed through Web3Forms when its access key is set, otherwise
        # emailed to SUPPORT_EMAIL; CONTACT_RATE_LIMIT per client IP.
        self.WEB3FORMS_ACCESS_KEY = env.str("WEB3FORMS_ACCESS_KEY")
        self.WEB3FORMS_URL = env.str("WEB3FORMS_URL", "https://api.web3forms.com/submit")
        self.SUPPORT_EMAIL = env.str("SUPPORT_EMAIL", "support@quantumgear.co.ke")
        self.CONTACT_RATE_LIMIT = env.str("CONTACT_RATE_LIMIT", "5 per hour")
        # The store's contact details (GET /api/contact/info).
        self.STORE_NAME = env.str("STORE_NAME", "Quantum Gear Electronics")
        self.STORE_PHONE = env.str("STORE_PHONE", "+254 700 123 456")
        self.STORE_WHATSAPP = env.str("STORE_WHATSAPP", "254700123456")
        self.STORE_EMAIL = env.str("STORE_EMAIL", self.SUPPORT_EMAIL)
        self.STORE_ADDRESS = env.str(
            "STORE_ADDRESS", "Kimathi Street, Nairobi CBD, P.O. Box 00100, Nairobi, Kenya"
        )
        self.STORE_HOURS = env.str(
            "STORE_HOURS", "Mon-Fri 8:00-18:00, Sat 9:00-16:00 EAT; closed Sundays and holidays"
        )
        self.STORE_SOCIAL_FACEBOOK = env.str(
            "STORE_SOCIAL_FACEBOOK", "https://www.facebook.com/quantumgearke"
        )
        self.STORE_SOCIAL_INSTAGRAM = env.str(
            "STORE_SOCIAL_INSTAGRAM", "https://www.instagram.com/quantumgearke"
        )
        self.STORE_SOCIAL_X = env.str("STORE_SOCIAL_X", "https://x.com/quantumgearke")
        self.STORE_SOCIAL_TIKTOK = env.str(
            "STORE_SOCIAL_TIKTOK", "https://www.tiktok.com/@quantumgearke"
        )

        self.ORDER_PAYMENT_TIMEOUT_MINUTES = env.int("ORDER_PAYMENT_TIMEOUT_MINUTES", 30)
        self.COD_MAX_TOTAL = env.int("COD_MAX_TOTAL", 50000)
        # Days a customer may return a delivered item; a supplier's earnings on it stay on
        # hold that long (EARNINGS_HOLD_DAYS) before they become available for payout.
        self.RETURN_WINDOW_DAYS = env.int("RETURN_WINDOW_DAYS", 7)
        self.EARNINGS_HOLD_DAYS = env.int("EARNINGS_HOLD_DAYS", self.RETURN_WINDOW_DAYS)
        self.RETURN_RESTOCKING_FEE_RATE = env.decimal("RETURN_RESTOCKING_FEE_RATE", "0.10")
        # Hours a supplier has to answer a return before it goes to admin review.
        self.SUPPLIER_RETURN_RESPONSE_HOURS = env.int("SUPPLIER_RETURN_RESPONSE_HOURS", 48)
        self.DEFAULT_COMMISSION_RATE = env.decimal("DEFAULT_COMMISSION_RATE", "0.10")
        self.LOW_STOCK_THRESHOLD = env.int("LOW_STOCK_THRESHOLD", 5)
        # Supplier payouts: one run per PAYOUT_SCHEDULE (crontab, in PAYOUT_TIMEZONE) for
        # every supplier whose available balance reaches PAYOUT_MIN_AMOUNT.
        # The supplier terms in force (app/supplier/terms.py); payouts need them accepted.
        self.SUPPLIER_TERMS_VERSION = env.str("SUPPLIER_TERMS_VERSION", "2026-11")
        self.PAYOUT_MIN_AMOUNT = env.decimal("PAYOUT_MIN_AMOUNT", "100.00")
        self.PAYOUT_SCHEDULE = env.str("PAYOUT_SCHEDULE", "0 7 * * mon")
        self.PAYOUT_TIMEZONE = env.str("PAYOUT_TIMEZONE", "Africa/Nairobi")
        # B2C transfers (payouts, refunds) in flight this long are checked with M-Pesa's
        # Transaction Status API (a timeout or a lost result is "unknown", never "failed").
        self.PAYOUT_RECONCILE_AFTER_MINUTES = env.int("PAYOUT_RECONCILE_AFTER_MINUTES", 10)
        # Delivery agents: their share of an order's delivery fee, paid daily.
        self.AGENT_FEE_RATE = env.decimal("AGENT_FEE_RATE", "0.70")
        self.AGENT_PAYOUT_SCHEDULE = env.str("AGENT_PAYOUT_SCHEDULE", "0 18 * * *")
        # An order offered to agents is theirs to accept for this long; a delivered order
        # is the customer's to confirm or dispute for DELIVERY_CONFIRM_HOURS, then confirmed.
        self.DELIVERY_OFFER_MINUTES = env.int("DELIVERY_OFFER_MINUTES", 15)
        self.DELIVERY_CONFIRM_HOURS = env.int("DELIVERY_CONFIRM_HOURS", 24)
        # Shown on every client's pages while set (e.g. planned maintenance).
        self.MAINTENANCE_BANNER = env.str("MAINTENANCE_BANNER", "")
        # How long a worker keeps the runtime settings before checking for a change.
        self.SETTINGS_CACHE_SECONDS = env.int("SETTINGS_CACHE_SECONDS", 5)

        self.SCHEDULER_ENABLED = env.bool("SCHEDULER_ENABLED", self.default_scheduler_enabled())
        self.IDEMPOTENCY_KEY_TTL_HOURS = 24
        self.IDEMPOTENCY_LOCK_TIMEOUT_SECONDS = env.int("IDEMPOTENCY_LOCK_TIMEOUT_SECONDS", 60)
        self.LOG_LEVEL = env.str("LOG_LEVEL", "INFO")
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust (0: none).
        self.TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 0)

        # flask-smorest / OpenAPI
        self.API_TITLE = "Quantum Gear Marketplace API"
        self.API_VERSION = "1.0.0"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/api"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.OPENAPI_SWAGGER_UI_PATH = "/docs"
        # Swagger UI's files come from the pinned swagger-ui-bundle package, served by
        # the app itself (app.api.Api): the docs work offline, under a strict CSP.
        self.OPENAPI_SWAGGER_UI_URL = "/api/docs/"
        self.OPENAPI_SWAGGER_UI_CONFIG = {"validatorUrl": None}  # no call to swagger.io
        self.JSON_SORT_KEYS = False

    # Hooks that subclasses override ------------------------------------------------
    def _check_required(self, env: _Env) -> None:
        missing = [name for name in self.REQUIRED if env.str(name) is None]
        if missing:
            raise ConfigError(f"{', '.join(missing)} must be set when FLASK_ENV={self.NAME}")

    def database_url(self, env: _Env) -> str | None:
        return env.str("DATABASE_URL")

    def default_database_name(self) -> str:
        return "quantum_gear.db"

    def default_scheduler_enabled(self) -> bool:
        return True

    @staticmethod
    def engine_options(url: str) -> dict:
        if url.startswith("postgresql"):
            return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}
        return {"connect_args": {"timeout": 30}}

    def as_dict(self) -> dict:
        return {key: value for key, value in vars(self).items() if key.isupper()}


class DevelopmentConfig(Config):
    NAME = "development"
    DEBUG = True


class TestingConfig(Config):
    NAME = "testing"
    TESTING = True

    def __init__(self, environ: Mapping[str, str] | None = None, instance_path: str = "instance"):
        super().__init__(environ, instance_path)
        self.PAYMENTS_SIMULATOR = True
        self.PAYMENTS_SIMULATOR_DELAY_SECONDS = 0
        self.MPESA_CONFIRM_CALLBACKS = False  # tests that need it turn it on
        self.RATELIMIT_ENABLED = False
        self.BCRYPT_ROUNDS = 4
        self.MAIL_USERNAME = None
        self.CORS_ORIGINS = [self.FRONTEND_URL]
        self.SETTINGS_CACHE_SECONDS = 0  # tests empty tables under the cache

    def database_url(self, env: _Env) -> str | None:
        return env.str("TEST_DATABASE_URL")

    def default_database_name(self) -> str:
        return "test.db"

    def default_scheduler_enabled(self) -> bool:
        return False


class ProductionConfig(Config):
    NAME = "production"
    REQUIRED = ("SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_URL")

    def __init__(self, environ: Mapping[str, str] | None = None, instance_path: str = "instance"):
        super().__init__(environ, instance_path)
        mpesa_live = self.MPESA_CONSUMER_KEY and self.MPESA_CONSUMER_SECRET
        if mpesa_live and not self.PAYMENTS_SIMULATOR and not self.MPESA_CALLBACK_TOKEN:
            # Without it anyone could post a success callback for an STK push.
            raise ConfigError(f"MPESA_CALLBACK_TOKEN must be set when FLASK_ENV={self.NAME}")
        if self.RATELIMIT_ENABLED and rate_limits_per_process(self.RATELIMIT_STORAGE_URI):
            raise ConfigError(
                "REDIS_URL or RATELIMIT_STORAGE_URI must be set when FLASK_ENV=production "
                "(a shared store for rate limits; RATELIMIT_ENABLED=false turns them off)"
            )


CONFIGS: dict[str, type[Config]] = {
    cls.NAME: cls for cls in (DevelopmentConfig, TestingConfig, ProductionConfig)
}


def load_config(name: str | None, instance_path: str) -> Config:
    name = name or os.environ.get("FLASK_ENV") or "development"
    if name not in CONFIGS:
        raise ConfigError(f"FLASK_ENV must be one of {', '.join(CONFIGS)}, got {name!r}")
    return CONFIGS[name](instance_path=instance_path)
