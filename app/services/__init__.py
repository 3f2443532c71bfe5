"""Thin provider clients, each with a simulator twin chosen by ``PAYMENTS_SIMULATOR``."""

from __future__ import annotations

from flask import Flask, current_app

from app.services.mpesa import MpesaGateway, build_mpesa
from app.services.paystack import PaystackGateway, build_paystack


def init_payment_providers(app: Flask) -> None:
    """Build the M-Pesa and Paystack clients (or simulators) once, from config."""
    app.extensions["mpesa"] = build_mpesa(app.config)
    app.extensions["paystack"] = build_paystack(app.config)


def mpesa() -> MpesaGateway:
    return current_app.extensions["mpesa"]


def paystack() -> PaystackGateway:
    return current_app.extensions["paystack"]
