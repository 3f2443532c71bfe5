"""Payments: M-Pesa, cards and cash"""

from app.api import Blueprint

blp = Blueprint(
    "payments", __name__, url_prefix="/api/payments", description="Payments: M-Pesa, cards and cash"
)
