"""Accounts and authentication"""

from app.api import Blueprint

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and authentication")
