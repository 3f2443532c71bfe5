"""Shopping cart"""

from app.api import Blueprint

blp = Blueprint("cart", __name__, url_prefix="/api/cart", description="Shopping cart")
