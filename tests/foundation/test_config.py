"""Configuration: parsed once from the environment; production refuses to start half-set."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest

from app import config as settings
from app import create_app, serve
from app.config import DevelopmentConfig, ProductionConfig, load_config, normalize_database_url

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "SECRET_KEY": "s" * 40,
    "JWT_SECRET_KEY": "j" * 40,
    "DATABASE_URL": "postgres://qg:pw@db.internal:5432/quantum_gear",
    "REDIS_URL": "redis://cache.internal:6379/0",
}
# The seed's table of variables, each with its default ("" = no default).
SEED_DEFAULTS = {
    "JWT_ACCESS_TOKEN_EXPIRES": timedelta(seconds=900),
    "JWT_REFRESH_TOKEN_EXPIRES": timedelta(seconds=604800),
    "MAIL_SERVER": "smtp.gmail.com",
    "MAIL_PORT": 587,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "CLOUDINARY_CLOUD_NAME": None,
    "CLOUDINARY_API_KEY": None,
    "CLOUDINARY_API_SECRET": None,
    "FRONTEND_URL": "http://localhost:5173",
    "BACKEND_URL": "http://localhost:5000",
    "GOOGLE_CLIENT_ID": None,
    "GOOGLE_CLIENT_SECRET": None,
    "MPESA_CONSUMER_KEY": None,
    "MPESA_CONSUMER_SECRET": None,
    "MPESA_SHORTCODE": "174379",
    "MPESA_PASSKEY": None,
    "MPESA_ENVIRONMENT": "sandbox",
    "PAYSTACK_SECRET_KEY": None,
    "PAYSTACK_PUBLIC_KEY": None,
    "WEB3FORMS_ACCESS_KEY": None,
}


class RecordingEnviron(dict):
    """An environment that remembers every variable the configuration looked up."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)


def env_example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_development_needs_no_variable(tmp_path):
    config = DevelopmentConfig(environ={}, instance_path=str(tmp_path)).as_dict()
    assert config["DEBUG"] is True
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/quantum_gear.db"
    assert config["SECRET_KEY"] and config["JWT_SECRET_KEY"]
    assert config["PAYMENTS_SIMULATOR"] is True
    assert config["CORS_ORIGINS"] == ["http://localhost:5173"]
    assert config["MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024


def test_seed_variables_have_the_seed_defaults(tmp_path):
    config = DevelopmentConfig(environ={}, instance_path=str(tmp_path)).as_dict()
    for name, default in SEED_DEFAULTS.items():
        assert config[name] == default, name
    assert config["MPESA_CALLBACK_URL"] == "http://localhost:5000/api/payments/mpesa/callback"


def test_every_variable_read_is_documented_in_env_example(tmp_path):
    environ = RecordingEnviron()
    DevelopmentConfig(environ=environ, instance_path=str(tmp_path))
    documented = env_example_names()
    assert environ.read - documented == set()
    assert set(SEED_DEFAULTS) | {"SECRET_KEY", "DATABASE_URL", "FLASK_ENV"} <= documented


def test_env_example_only_lists_variables_the_app_reads(tmp_path):
    environ = RecordingEnviron()
    DevelopmentConfig(environ=environ, instance_path=str(tmp_path))
    assert env_example_names() - environ.read == {"FLASK_ENV"}  # read by load_config


def test_values_are_parsed_into_types(tmp_path):
    environ = {
        "JWT_ACCESS_TOKEN_EXPIRES": "60",
        "MAIL_PORT": " 2525 ",
        "RATELIMIT_ENABLED": "off",
        "CORS_ORIGINS": "https://a.example, ,https://b.example",
        "PAYMENTS_SIMULATOR": "yes",
        "BACKEND_URL": "https://api.example/",
        "MPESA_ENVIRONMENT": "production",
    }
    config = DevelopmentConfig(environ=environ, instance_path=str(tmp_path))
    assert config.JWT_ACCESS_TOKEN_EXPIRES.total_seconds() == 60
    assert config.MAIL_PORT == 2525
    assert config.RATELIMIT_ENABLED is False
    assert config.CORS_ORIGINS == ["https://a.example", "https://b.example"]
    assert config.PAYMENTS_SIMULATOR is True
    assert config.BACKEND_URL == "https://api.example"
    assert config.MPESA_CALLBACK_URL == "https://api.example/api/payments/mpesa/callback"
    assert config.MPESA_BASE_URL == "https://api.safaricom.co.ke"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MAIL_PORT": "smtp"}, "MAIL_PORT must be a whole number, got 'smtp'"),
        ({"JWT_ACCESS_TOKEN_EXPIRES": "15m"}, "JWT_ACCESS_TOKEN_EXPIRES must be a whole number"),
        ({"RATELIMIT_ENABLED": "maybe"}, "RATELIMIT_ENABLED must be true or false, got 'maybe'"),
        ({"MPESA_ENVIRONMENT": "staging"}, "MPESA_ENVIRONMENT must be 'sandbox' or 'production'"),
    ],
)
def test_malformed_values_stop_with_one_clear_line(tmp_path, environ, message):
    with pytest.raises(SystemExit) as stop:
        DevelopmentConfig(environ=environ, instance_path=str(tmp_path))
    text = str(stop.value.code)
    assert text.startswith("Configuration error: ") and message in text
    assert "\n" not in text


@pytest.mark.parametrize("missing", ["SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_URL"])
def test_production_refuses_to_start_without_its_secrets(tmp_path, missing):
    environ = {name: value for name, value in PRODUCTION_ENV.items() if name != missing}
    with pytest.raises(SystemExit) as stop:
        ProductionConfig(environ=environ, instance_path=str(tmp_path))
    assert str(stop.value.code) == (
        f"Configuration error: {missing} must be set when FLASK_ENV=production"
    )


def test_production_lists_every_missing_secret_and_blank_counts_as_missing(tmp_path):
    with pytest.raises(SystemExit) as stop:
        ProductionConfig(environ={"SECRET_KEY": "   "}, instance_path=str(tmp_path))
    assert str(stop.value.code) == (
        "Configuration error: SECRET_KEY, JWT_SECRET_KEY, DATABASE_URL must be set "
        "when FLASK_ENV=production"
    )


def test_create_app_in_production_without_secrets_exits(monkeypatch):
    for name in PRODUCTION_ENV:
        monkeypatch.setenv(name, "")  # set-but-empty also shadows any .env file
    monkeypatch.setenv("FLASK_ENV", "production")
    with pytest.raises(SystemExit, match="^Configuration error: SECRET_KEY, JWT_SECRET_KEY"):
        create_app()


def test_production_with_its_secrets(tmp_path):
    config = ProductionConfig(environ=PRODUCTION_ENV, instance_path=str(tmp_path))
    assert config.DEBUG is False and config.ENV_NAME == "production"
    assert config.SQLALCHEMY_DATABASE_URI == (
        "postgresql+psycopg2://qg:pw@db.internal:5432/quantum_gear"
    )
    assert config.SQLALCHEMY_ENGINE_OPTIONS["pool_pre_ping"] is True


@pytest.mark.parametrize(
    ("shared", "storage"),
    [
        ({"REDIS_URL": "redis://cache.internal:6379/0"}, "redis://cache.internal:6379/0"),
        ({"RATELIMIT_STORAGE_URI": "redis://limits:6379/1"}, "redis://limits:6379/1"),
        (
            {
                "REDIS_URL": "redis://cache.internal:6379/0",
                "RATELIMIT_STORAGE_URI": "memcached://m",
            },
            "memcached://m",
        ),
        ({"RATELIMIT_ENABLED": "false"}, "memory://"),  # no limits: nothing to share
    ],
)
def test_production_counts_rate_limits_in_a_shared_store(tmp_path, shared, storage):
    environ = {name: value for name, value in PRODUCTION_ENV.items() if name != "REDIS_URL"}
    config = ProductionConfig(environ=environ | shared, instance_path=str(tmp_path)).as_dict()
    assert config["RATELIMIT_STORAGE_URI"] == storage


@pytest.mark.parametrize("storage", [{}, {"RATELIMIT_STORAGE_URI": "memory://"}])
def test_production_with_rate_limits_refuses_to_count_them_per_worker(tmp_path, storage):
    environ = {name: value for name, value in PRODUCTION_ENV.items() if name != "REDIS_URL"}
    with pytest.raises(SystemExit) as stop:
        ProductionConfig(environ=environ | storage, instance_path=str(tmp_path))
    assert str(stop.value.code) == (
        "Configuration error: REDIS_URL or RATELIMIT_STORAGE_URI must be set when "
        "FLASK_ENV=production (a shared store for rate limits; RATELIMIT_ENABLED=false turns "
        "them off)"
    )


def _served_development_app(monkeypatch, tmp_path, caplog, **environ):
    """The warnings a served development app logs (``make run``: ``serve(create_app())``)."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/dev.db")
    monkeypatch.setenv("SCHEDULER_ENABLED", "false")
    for name in ("REDIS_URL", "RATELIMIT_STORAGE_URI", "RATELIMIT_ENABLED"):
        monkeypatch.setenv(name, environ.get(name, ""))  # also shadows any .env file
    caplog.set_level(logging.WARNING, logger="app")
    app = create_app("development")
    serve(app)
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
    return [record.getMessage() for record in caplog.records if record.name == "app"]


def test_development_warns_once_that_its_rate_limits_are_per_process(monkeypatch, tmp_path, caplog):
    warnings = _served_development_app(monkeypatch, tmp_path, caplog)
    per_process = [text for text in warnings if text.startswith("Rate limits are counted")]
    assert per_process == [
        "Rate limits are counted per process (memory://): every worker allows the whole "
        "limit; set REDIS_URL or RATELIMIT_STORAGE_URI to share them"
    ]


@pytest.mark.parametrize(
    "environ", [{"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"}, {"RATELIMIT_ENABLED": "false"}]
)
def test_no_per_process_warning_with_a_shared_store_or_no_limits(
    monkeypatch, tmp_path, caplog, environ
):
    warnings = _served_development_app(monkeypatch, tmp_path, caplog, **environ)
    assert not [text for text in warnings if text.startswith("Rate limits are counted")]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+psycopg2://u:p@h:5432/db"),
        ("postgresql://u:p@h/db", "postgresql+psycopg2://u:p@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_urls_are_bound_to_the_pinned_driver(url, expected):
    assert normalize_database_url(url) == expected


def test_testing_config_uses_test_database_url_and_turns_things_off(tmp_path):
    config = settings.TestingConfig(
        environ={"TEST_DATABASE_URL": "postgresql://x@h/t", "DATABASE_URL": "postgresql://x@h/p"},
        instance_path=str(tmp_path),
    )
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg2://x@h/t"
    assert config.SCHEDULER_ENABLED is False and config.RATELIMIT_ENABLED is False
    assert config.PAYMENTS_SIMULATOR is True and config.TESTING is True


def test_flask_env_chooses_the_class_and_rejects_unknown_names(monkeypatch, tmp_path):
    monkeypatch.setenv("FLASK_ENV", "testing")
    assert isinstance(load_config(None, str(tmp_path)), settings.TestingConfig)
    monkeypatch.setenv("FLASK_ENV", "staging")
    with pytest.raises(SystemExit, match="FLASK_ENV must be one of"):
        load_config(None, str(tmp_path))


def test_trusted_proxy_headers_are_used_only_when_configured(monkeypatch):
    from flask import request

    from app import create_app

    seen = {}
    for count in ("0", "1"):
        monkeypatch.setenv("TRUSTED_PROXY_COUNT", count)
        app = create_app("testing")

        @app.get("/whoami")
        def whoami():
            return {"ip": request.remote_addr}

        seen[count] = (
            app.test_client()
            .get(
                "/whoami",
                environ_base={"REMOTE_ADDR": "10.0.0.1"},
                headers={"X-Forwarded-For": "41.90.1.2"},
            )
            .json["ip"]
        )
    assert seen == {"0": "10.0.0.1", "1": "41.90.1.2"}
