"""Every outside provider, built once per app from config into ``app.extensions``.

M-Pesa and Paystack each have a simulator twin of the same methods, chosen by
``PAYMENTS_SIMULATOR``; Google sign-in is absent (503 ``PROVIDER_NOT_CONFIGURED``)
without ``GOOGLE_CLIENT_ID``; the contact form's Web3Forms relay is absent (support is
emailed instead) without ``WEB3FORMS_ACCESS_KEY``; images go to Cloudinary with
``CLOUDINARY_*``, else to the local disk. The accessors are named for what they
return, so none shadows its module (``app.services.mpesa`` stays the module).
"""

from __future__ import annotations

from flask import Flask, current_app

from app.errors import ProviderNotConfigured
from app.services.google_oauth import GoogleOAuth, build_google
from app.services.mpesa import MpesaGateway, build_mpesa
from app.services.paystack import PaystackGateway, build_paystack
from app.services.storage import Storage, build_storage
from app.services.web3forms import Web3FormsClient, build_web3forms


def init_providers(app: Flask) -> None:
    """Build every provider client (or its simulator) once, from config."""
    app.extensions["mpesa"] = build_mpesa(app.config)
    app.extensions["paystack"] = build_paystack(app.config)
    app.extensions["google"] = build_google(app.config)
    app.extensions["web3forms"] = build_web3forms(app.config)
    app.extensions["image_storage"] = build_storage(app.config)


def mpesa_gateway() -> MpesaGateway:
    return current_app.extensions["mpesa"]


def paystack_gateway() -> PaystackGateway:
    return current_app.extensions["paystack"]


def google_verifier() -> GoogleOAuth:
    verifier = current_app.extensions["google"]
    if verifier is None:
        raise ProviderNotConfigured("Google sign-in is not configured")
    return verifier


def web3forms_relay() -> Web3FormsClient | None:
    return current_app.extensions["web3forms"]


def image_storage() -> Storage:
    return current_app.extensions["image_storage"]
