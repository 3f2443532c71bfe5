"""Quantum Gear marketplace API: the application factory."""

from __future__ import annotations

import logging
import os
from importlib import import_module

from dotenv import load_dotenv
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.api import Api, IdConverter, JSONProvider, TextConverter
from app.auth.access import BEARER_SCHEME, register_jwt_callbacks
from app.config import load_config, rate_limits_per_process
from app.errors import register_error_handlers
from app.extensions import cors, db, jwt, limiter, mail, migrate
from app.middleware import configure_logging, register_request_hooks
from app.scheduler import register_jobs_cli, start_scheduler
from app.services import init_providers

log = logging.getLogger(__name__)

# Every domain blueprint, in the order they appear in the OpenAPI document.
BLUEPRINT_MODULES = (
    "app.health",
    "app.auth.routes",
    "app.catalog.routes",
    "app.cart.routes",
    "app.orders.routes",
    "app.payments.routes",
    "app.payments.refund_routes",
    "app.supplier.routes",
    "app.payouts.routes",
    "app.disbursements.routes",
    "app.payout_numbers.routes",
    "app.notifications.routes",
    "app.notifications.admin_routes",
    "app.contact.routes",
    "app.returns.routes",
    "app.returns.supplier_routes",
    "app.returns.admin_routes",
    "app.dispatch.routes",
    "app.uploads.routes",
    "app.uploads.media",
    "app.settings.routes",
    "app.admin.routes",
    "app.analytics.routes",
)

# Modules whose models must be imported for the metadata (and Alembic) to see them.
MODEL_MODULES = (
    "app.common.models",
    "app.notifications.models",
    "app.auth.models",
    "app.catalog.models",
    "app.cart.models",
    "app.delivery.models",
    "app.orders.models",
    "app.payments.models",
    "app.ledger.models",
    "app.disbursements.models",
    "app.payouts.models",
    "app.payout_numbers.models",
    "app.contact.models",
    "app.returns.models",
    "app.dispatch.models",
    "app.uploads.models",
    "app.settings.models",
    "app.analytics.models",
)

# Modules whose signal receivers (``app/signals.py``) must be connected.
RECEIVER_MODULES: tuple[str, ...] = (
    "app.payments.receivers",
    "app.cart.receivers",
    "app.orders.receivers_catalog",
    "app.ledger.receivers",
    "app.payouts.receivers",
    "app.notifications.order_emails",
    "app.notifications.payment_emails",
    "app.notifications.account_emails",
    "app.returns.receivers",
    "app.returns.notifications",
    "app.dispatch.receivers",
    "app.uploads.receivers",
    "app.notifications.admin_feed",
    "app.analytics.receivers",
)

# Modules that add ``flask`` commands through a ``register_cli(app)`` function.
CLI_MODULES = ("app.auth.cli", "app.ledger.cli", "app.analytics.cli")


def create_app(config_name: str | None = None) -> Flask:
    """Build the app. A server then calls ``serve(app)``; ``flask`` commands never do."""
    load_dotenv()
    app = Flask(__name__, instance_relative_config=True)
    app.json = JSONProvider(app)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(load_config(config_name, app.instance_path).as_dict())
    configure_logging(app)
    trust_proxies(app)
    register_extensions(app)
    register_request_hooks(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_cli(app)
    return app


def serve(app: Flask) -> None:
    """What only a server process does: gunicorn's ``post_worker_init`` hook
    (gunicorn.conf.py) and ``python run.py``. Never a ``flask`` command, which would
    run jobs against a database it may be migrating."""
    warn_about_insecure_settings(app)
    start_scheduler(app)


def trust_proxies(app: Flask) -> None:
    """Behind a load balancer, see the client's address and scheme, not the proxy's."""
    count = app.config["TRUSTED_PROXY_COUNT"]
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def register_extensions(app: Flask) -> None:
    for module in MODEL_MODULES + RECEIVER_MODULES:
        import_module(module)
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
        compare_type=True,
        render_as_batch=True,
    )
    jwt.init_app(app)
    register_jwt_callbacks(app)
    cors.init_app(
        app,
        resources={r"/api/*": {"origins": app.config["CORS_ORIGINS"]}},
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Idempotent-Replayed", "Retry-After"],
        supports_credentials=True,
    )
    mail.init_app(app)
    limiter.init_app(app)
    init_providers(app)


def register_blueprints(app: Flask) -> None:
    # Before any rule is added: path ids and text are checked as they are matched.
    app.url_map.converters |= {
        "int": IdConverter,
        "default": TextConverter,
        "string": TextConverter,
    }
    # One Api (and OpenAPI document) per app: tests build several apps in one process.
    api = Api(app)
    app.extensions["qg_api"] = api
    api.spec.components.security_scheme(
        BEARER_SCHEME, {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    for module in BLUEPRINT_MODULES:
        imported = import_module(module)
        for blueprint in getattr(imported, "BLUEPRINTS", (imported.blp,)):
            api.register_blueprint(blueprint)
    if app.config["PAYMENTS_SIMULATOR"]:  # the offline card checkout page
        api.register_blueprint(import_module("app.payments.simulator").blp)


def register_cli(app: Flask) -> None:
    register_jobs_cli(app)
    for module in CLI_MODULES:
        import_module(module).register_cli(app)


def warn_about_insecure_settings(app: Flask) -> None:
    if app.config["RATELIMIT_ENABLED"] and rate_limits_per_process(
        app.config["RATELIMIT_STORAGE_URI"]
    ):
        log.warning(
            "Rate limits are counted per process (%s): every worker allows the whole limit; "
            "set REDIS_URL or RATELIMIT_STORAGE_URI to share them",
            app.config["RATELIMIT_STORAGE_URI"],
        )
    if not app.config["MPESA_CALLBACK_TOKEN"] and not app.config["PAYMENTS_SIMULATOR"]:
        log.warning(
            "MPESA_CALLBACK_TOKEN is not set: M-Pesa callbacks are accepted without a token"
        )
