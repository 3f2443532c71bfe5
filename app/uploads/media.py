"""Locally stored images, served at ``/media/<path>``"""

from __future__ import annotations

from flask import current_app, send_from_directory

from app.api import Blueprint
from app.errors import NotFound
from app.services.storage import CONTENT_TYPES

blp = Blueprint(
    "media",
    __name__,
    url_prefix="/media",
    description="Uploaded images (local storage): long-cached, never sniffed",
)

ONE_YEAR = 365 * 24 * 3600


@blp.route("/<path:path>", methods=["GET"])
@blp.doc(
    responses={
        "200": {
            "description": "The image (names are random and never reused: cached a year).",
            "content": {
                content_type: {"schema": {"type": "string", "format": "binary"}}
                for content_type in CONTENT_TYPES.values()
            },
        },
        "404": {"description": "NOT_FOUND"},
    }
)
def media(path):
    """An uploaded image, with its own Content-Type and ``nosniff``."""
    extension = path.rpartition(".")[2].lower()
    if extension not in CONTENT_TYPES:
        raise NotFound("No such image")
    # send_from_directory refuses paths outside UPLOAD_DIR (404).
    response = send_from_directory(
        current_app.config["UPLOAD_DIR"],
        path,
        mimetype=CONTENT_TYPES[extension],
        max_age=ONE_YEAR,
        conditional=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
