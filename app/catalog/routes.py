"""Products, categories, brands and delivery zones"""

from app.api import Blueprint

blp = Blueprint(
    "catalog",
    __name__,
    url_prefix="/api/products",
    description="Products, categories, brands and delivery zones",
)
