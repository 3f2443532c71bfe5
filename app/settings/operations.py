"""Changing runtime settings: validated per key, stored as overrides, audited with the
old and new values; every worker sees the change within ``SETTINGS_CACHE_SECONDS``."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from app.common.audit import record_audit
from app.db import after_commit, conflict_insert, utcnow
from app.extensions import db
from app.settings import SETTINGS, default, forget_cached, setting
from app.settings.models import SettingOverride, SettingsVersion


def _serialise(key: str, value: Any) -> Any:
    return SETTINGS[key].field().serialize("value", {"value": value})


def _describe(key: str, override: SettingOverride | None) -> dict[str, Any]:
    """A setting as the admin screen shows it: value, default, whether it is overridden."""
    entry = SETTINGS[key]
    return {
        "key": key,
        "value": _serialise(key, setting(key)),
        "default": _serialise(key, default(key)),
        "description": entry.description,
        "public": entry.public,
        "overridden": override is not None,
        "updated_at": override.updated_at if override else None,
        "updated_by_id": override.updated_by_id if override else None,
    }


def all_settings() -> list[dict[str, Any]]:
    """Every setting as the admin screen shows it (the overrides read in one query)."""
    overrides = {override.key: override for override in db.session.scalars(select(SettingOverride))}
    return [_describe(key, overrides.get(key)) for key in SETTINGS]


def public_settings() -> dict[str, Any]:
    """The public settings' values (``PublicSettingsSchema`` serialises them)."""
    return {key: setting(key) for key, entry in SETTINGS.items() if entry.public}


def update_settings(data: dict[str, Any], *, actor_id: int | None) -> list[str]:
    """Store the keys sent (validated by ``schemas.SettingsUpdateSchema``) whose value
    changes (flushes); the keys changed."""
    changed = []
    now = utcnow()
    for key, value in data.items():
        old = setting(key)
        if key == "social_links":
            value = old | value  # the networks not sent keep their links
        if value == old:
            continue
        stored = _serialise(key, value)
        db.session.execute(
            conflict_insert(SettingOverride)
            .values(key=key, value=stored, updated_at=now, updated_by_id=actor_id)
            .on_conflict_do_update(
                index_elements=["key"],
                set_={"value": stored, "updated_at": now, "updated_by_id": actor_id},
            )
        )
        record_audit(
            "settings.updated",
            target_type="Setting",
            target_id=key,
            actor_id=actor_id,
            details={"before": _serialise(key, old), "after": stored},
        )
        changed.append(key)
    if changed:
        version = str(uuid.uuid4())
        db.session.execute(
            conflict_insert(SettingsVersion)
            .values(id=1, version=version)
            .on_conflict_do_update(index_elements=["id"], set_={"version": version})
        )
        db.session.expire_all()
        after_commit(db.session(), forget_cached)
    return changed
