"""One provider registry: every client built at startup; no accessor shadows its module."""

from __future__ import annotations

import sys

import pytest

from app.errors import ProviderNotConfigured
from app.services import (
    google_oauth,
    google_verifier,
    mpesa,
    mpesa_gateway,
    paystack,
    paystack_gateway,
)


def test_the_provider_modules_are_modules():
    assert mpesa is sys.modules["app.services.mpesa"]
    assert paystack is sys.modules["app.services.paystack"]
    assert google_oauth is sys.modules["app.services.google_oauth"]


def test_every_provider_is_built_at_startup(app):
    assert isinstance(mpesa_gateway(), mpesa.MpesaSimulator)
    assert isinstance(paystack_gateway(), paystack.PaystackSimulator)
    assert set(app.extensions) >= {"mpesa", "paystack", "google"}


def test_google_without_a_client_id_is_not_configured(app):
    assert app.extensions["google"] is None
    with pytest.raises(ProviderNotConfigured):
        google_verifier()


def test_google_with_a_client_id_is_built_from_config():
    verifier = google_oauth.build_google(
        {
            "GOOGLE_CLIENT_ID": "id.apps.googleusercontent.com",
            "GOOGLE_CLIENT_SECRET": "secret",
            "GOOGLE_REDIRECT_URI": "https://api.quantumgear.co.ke/api/auth/google/callback",
        }
    )
    assert (verifier.client_id, verifier.client_secret) == (
        "id.apps.googleusercontent.com",
        "secret",
    )
