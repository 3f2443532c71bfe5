"""Payouts: paying suppliers (and agents) by M-Pesa B2C"""

from __future__ import annotations

from app.api import Blueprint

blp = Blueprint(
    "payouts",
    __name__,
    url_prefix="/api",
    description="Payouts: paying suppliers (and agents) by M-Pesa B2C",
)
