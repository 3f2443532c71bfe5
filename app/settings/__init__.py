"""Runtime settings: what an operator may change without a deploy.

Every reader asks ``setting(key)``; nothing else reads these values from
``current_app.config``. The environment (``app/config.py``) gives each key its default;
``PUT /api/admin/settings`` stores overrides (``app/settings/models.py``). ``SETTINGS``
is the one list of keys, with the config key that holds each default and the field that
validates (and stores) a new value.

Each worker keeps the overrides in memory and, at most every ``SETTINGS_CACHE_SECONDS``,
reads the one-row version that every change increments; a new version reloads them. So a
change reaches every worker within seconds (at once on the worker that made it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
from apscheduler.triggers.cron import CronTrigger
from flask import current_app
from marshmallow import validate
from sqlalchemy import select

from app.extensions import db
from app.fields import Money, Phone, rate
from app.money import MAX_PRICE, ZERO

SOCIAL_NETWORKS = ("facebook", "instagram", "x", "tiktok")
HTTP_URL = validate.URL(schemes={"http", "https"}, require_tld=False)


def _text(maximum: int, minimum: int = 1) -> Callable[[], ma.fields.Field]:
    return lambda: ma.fields.String(validate=validate.Length(min=minimum, max=maximum))


def _rate(maximum: str) -> Callable[[], ma.fields.Field]:
    return lambda: rate(maximum)


def _count(maximum: int) -> Callable[[], ma.fields.Field]:
    return lambda: ma.fields.Integer(strict=True, validate=validate.Range(min=0, max=maximum))


def _crontab(value: str) -> None:
    try:
        CronTrigger.from_crontab(value)
    except ValueError as error:
        raise ma.ValidationError(f"Not a crontab expression: {error}") from None


def _link_or_empty(value: str) -> None:
    if value != "":
        HTTP_URL(value)


def _social_links() -> ma.fields.Field:
    return ma.fields.Dict(
        keys=ma.fields.String(validate=validate.OneOf(SOCIAL_NETWORKS)),
        values=ma.fields.String(validate=[validate.Length(max=500), _link_or_empty]),
    )


@dataclass(frozen=True)
class Setting:
    key: str
    config_key: str | None  # None: composed from several config keys (social_links)
    description: str
    field: Callable[[], ma.fields.Field] = field(default=_text(255), repr=False)
    public: bool = False  # shown to anyone (GET /api/settings/public)


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting(
            "store_name", "STORE_NAME", "The store's name in emails and pages", _text(100), True
        ),
        Setting("contact_phone", "STORE_PHONE", "The store's phone number", _text(40), True),
        Setting("contact_whatsapp", "STORE_WHATSAPP", "The store's WhatsApp number", Phone, True),
        Setting(
            "contact_email",
            "STORE_EMAIL",
            "The store's public email address",
            ma.fields.Email,
            True,
        ),
        Setting(
            "contact_address", "STORE_ADDRESS", "The store's postal/physical address", public=True
        ),
        Setting(
            "opening_hours", "STORE_HOURS", "Opening hours, as shown to customers", public=True
        ),
        Setting("social_links", None, "Social network links by network", _social_links, True),
        Setting(
            "default_commission_rate",
            "DEFAULT_COMMISSION_RATE",
            "Commission for categories and suppliers without their own rate",
            _rate("0.5"),
        ),
        Setting(
            "return_window_days",
            "RETURN_WINDOW_DAYS",
            "Days after delivery to ask a return",
            _count(90),
        ),
        Setting(
            "restocking_fee_rate",
            "RETURN_RESTOCKING_FEE_RATE",
            "Share of a CHANGED_MIND return kept as a restocking fee",
            _rate("0.5"),
        ),
        Setting(
            "payout_min_amount",
            "PAYOUT_MIN_AMOUNT",
            "Smallest scheduled supplier payout",
            lambda: Money(validate=validate.Range(min=ZERO, max=MAX_PRICE)),
        ),
        Setting(
            "payout_schedule",
            "PAYOUT_SCHEDULE",
            "Supplier payout run (crontab, Nairobi)",
            lambda: ma.fields.String(validate=[validate.Length(min=9, max=100), _crontab]),
        ),
        Setting(
            "cod_max_total",
            "COD_MAX_TOTAL",
            "Largest order total payable in cash",
            _count(10_000_000),
        ),
        Setting(
            "agent_fee_rate",
            "AGENT_FEE_RATE",
            "Agents' share of an order's delivery fee",
            _rate("1"),
        ),
        Setting(
            "low_stock_threshold",
            "LOW_STOCK_THRESHOLD",
            "Stock at or below which is low",
            _count(1_000_000),
        ),
        Setting(
            "maintenance_banner",
            "MAINTENANCE_BANNER",
            "Banner text shown by the clients",
            _text(500, minimum=0),
            True,
        ),
    )
}


def default(key: str) -> Any:
    """The environment's value of a setting."""
    config = current_app.config
    entry = SETTINGS[key]
    if entry.config_key is None:
        return {name: config[f"STORE_SOCIAL_{name.upper()}"] for name in SOCIAL_NETWORKS}
    return config[entry.config_key]


def setting(key: str) -> Any:
    """The current value of a runtime setting (unknown keys are a programming error)."""
    entry = SETTINGS[key]
    overrides = _overrides()
    if key in overrides:
        return overrides[key]
    return default(entry.key)


def load_value(key: str, stored: Any) -> Any:
    """A stored override as its setting's type (the value its field serialised)."""
    value = SETTINGS[key].field().deserialize(stored)
    if key == "social_links":  # stored whole, merged over the defaults
        return default(key) | value
    return value


# --- the per-worker cache ----------------------------------------------------------------
@dataclass
class _Cache:
    version: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    checked_at: float = float("-inf")
    lock: threading.Lock = field(default_factory=threading.Lock)


def _cache() -> _Cache:
    cache = current_app.extensions.get("qg_settings")
    if cache is None:  # once per app (a worker's threads may race here: one cache wins)
        cache = current_app.extensions.setdefault("qg_settings", _Cache())
    return cache


def forget_cached() -> None:
    """This worker reads the settings again at the next ``setting()``."""
    _cache().checked_at = float("-inf")


def _overrides() -> dict[str, Any]:
    from app.settings.models import SettingOverride, SettingsVersion

    cache = _cache()
    now = time.monotonic()
    if now - cache.checked_at < current_app.config["SETTINGS_CACHE_SECONDS"]:
        return cache.values
    with cache.lock:
        if time.monotonic() - cache.checked_at < current_app.config["SETTINGS_CACHE_SECONDS"]:
            return cache.values  # another thread read them while this one waited
        version = db.session.scalar(select(SettingsVersion.version).where(SettingsVersion.id == 1))
        if version != cache.version:
            rows = (
                []
                if version is None
                else db.session.execute(select(SettingOverride.key, SettingOverride.value)).all()
            )
            cache.values = {key: load_value(key, value) for key, value in rows if key in SETTINGS}
            cache.version = version
        cache.checked_at = now
    return cache.values
