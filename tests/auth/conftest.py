"""Helpers of the auth tests: the outbox (codes and links) and signing in over HTTP."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.common.models import AuditLog
from app.extensions import db
from app.notifications.models import OutboxEmail
from tests.factories.auth import PASSWORD


def emails(template: str | None = None, to: str | None = None) -> list[OutboxEmail]:
    query = select(OutboxEmail).order_by(OutboxEmail.id)
    if template:
        query = query.where(OutboxEmail.template == template)
    if to:
        query = query.where(OutboxEmail.to_address == to)
    return list(db.session.scalars(query))


def code_in(email: OutboxEmail) -> str:
    return re.search(r"\b(\d{6})\b", email.body_text).group(1)


def token_in(email: OutboxEmail) -> str:
    return re.search(r"token=([A-Za-z0-9_\-.]+)", email.body_text).group(1)


def audit_actions(action: str | None = None) -> list[str]:
    query = select(AuditLog.action).order_by(AuditLog.id)
    if action:
        query = query.where(AuditLog.action == action)
    return list(db.session.scalars(query))


def fresh(obj):
    """Reload a row the requests changed (they run in sessions of their own)."""
    db.session.refresh(obj)
    return obj


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def login(client):
    """``login(email, password=PASSWORD, **more)`` -> the test client's response."""

    def do(email: str, password: str = PASSWORD, **more):
        return client.post("/api/auth/login", json={"email": email, "password": password, **more})

    return do


@pytest.fixture
def signed_in(login):
    """``signed_in(user)`` -> the login answer's data (user, access_token, refresh_token)."""

    def do(user, **more):
        response = login(user.email, **more)
        assert response.status_code == 200, response.json
        return response.json["data"]

    return do
