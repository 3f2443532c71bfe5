"""Runtime settings: what an operator may change without a deploy.

Every reader asks ``setting(key)``; nothing else reads these values from
``current_app.config``. The environment (``app/config.py``) gives each key its default;
the admin settings domain (``PUT /api/admin/settings``) stores overrides. ``SETTINGS``
is the one list of keys, with the config key that holds each default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

SOCIAL_NETWORKS = ("facebook", "instagram", "x", "tiktok")


@dataclass(frozen=True)
class Setting:
    key: str
    config_key: str | None  # None: composed from several config keys (social_links)
    description: str


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting("store_name", "STORE_NAME", "The store's name in emails and pages"),
        Setting("contact_phone", "STORE_PHONE", "The store's phone number"),
        Setting("contact_whatsapp", "STORE_WHATSAPP", "The store's WhatsApp number"),
        Setting("contact_email", "STORE_EMAIL", "The store's public email address"),
        Setting("contact_address", "STORE_ADDRESS", "The store's postal/physical address"),
        Setting("opening_hours", "STORE_HOURS", "Opening hours, as shown to customers"),
        Setting("social_links", None, "Social network links by network"),
        Setting(
            "default_commission_rate",
            "DEFAULT_COMMISSION_RATE",
            "Commission for categories and suppliers without their own rate",
        ),
        Setting("return_window_days", "RETURN_WINDOW_DAYS", "Days after delivery to ask a return"),
        Setting(
            "restocking_fee_rate",
            "RETURN_RESTOCKING_FEE_RATE",
            "Share of a CHANGED_MIND return kept as a restocking fee",
        ),
        Setting("payout_min_amount", "PAYOUT_MIN_AMOUNT", "Smallest scheduled supplier payout"),
        Setting("payout_schedule", "PAYOUT_SCHEDULE", "Supplier payout run (crontab, Nairobi)"),
        Setting("cod_max_total", "COD_MAX_TOTAL", "Largest order total payable in cash"),
        Setting("agent_fee_rate", "AGENT_FEE_RATE", "Agents' share of an order's delivery fee"),
        Setting("low_stock_threshold", "LOW_STOCK_THRESHOLD", "Stock at or below which is low"),
        Setting("maintenance_banner", "MAINTENANCE_BANNER", "Banner text shown by the clients"),
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
    return default(key)
