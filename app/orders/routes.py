"""Orders, addresses and delivery fees"""

from app.api import Blueprint

blp = Blueprint(
    "orders", __name__, url_prefix="/api/orders", description="Orders, addresses and delivery fees"
)
