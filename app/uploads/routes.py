"""Image uploads: product images, return evidence, brand logos, avatars"""

from __future__ import annotations

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from app.api import Blueprint, ErrorEnvelopeSchema
from app.auth.access import (
    auth_required,
    current_user,
    customer_required,
    login_required,
    requires,
)
from app.auth.models import UserRole
from app.errors import error_response
from app.extensions import db
from app.uploads import operations
from app.uploads.images import too_large
from app.uploads.schemas import (
    BrandLogoSchema,
    DeletedSchema,
    DeleteQuerySchema,
    DirectUploadSchema,
    ImageFileSchema,
    ProductImageSchema,
    SignatureQuerySchema,
    SignatureSchema,
    UploadSchema,
)

blp = Blueprint(
    "uploads",
    __name__,
    url_prefix="/api/uploads",
    description="Image uploads: product images, return evidence, brand logos, avatars. "
    "Every image is checked by content (JPEG, PNG, WebP), size and pixels, and re-encoded.",
)

# Room for the multipart framing and small form fields around the file.
FORM_OVERHEAD = 16 * 1024
product_uploader = auth_required(
    [UserRole.SUPPLIER, UserRole.PRODUCT_MANAGER], verified=True, approved_supplier=True
)
brand_uploader = requires("catalogue.manage")


@blp.before_request
def _limit_body() -> None:
    """Read no more of an upload's body than one image may need (413 beyond)."""
    limit = current_app.config["UPLOAD_MAX_BYTES"] + FORM_OVERHEAD
    request.max_content_length = min(limit, current_app.config["MAX_CONTENT_LENGTH"] or limit)


@blp.errorhandler(RequestEntityTooLarge)
def _file_too_large(_error):
    error = too_large(current_app.config["UPLOAD_MAX_BYTES"])
    return error_response(error.status, error.code, error.message, error.details)


def _refusals(view):
    """The refusals every upload documents."""
    for status, codes in (
        (400, "FILE_REQUIRED, INVALID_IMAGE, IMAGE_TOO_LARGE, VALIDATION_ERROR"),
        (413, "FILE_TOO_LARGE"),
        (415, "UNSUPPORTED_MEDIA_TYPE"),
        (502, "PROVIDER_ERROR (Cloudinary failed; nothing recorded)"),
    ):
        view = blp.alt_response(status, schema=ErrorEnvelopeSchema, description=codes)(view)
    return view


@blp.route("/product", methods=["POST"])
@blp.response(201, UploadSchema, message="Image uploaded")
@_refusals
@product_uploader
@blp.arguments(ProductImageSchema, location="form")
@blp.arguments(ProductImageSchema, location="files")
def upload_product_image(form, files):
    """A product image (approved suppliers, product managers, admins). With
    ``product_id`` (your product; any for managers) it is appended to its images."""
    upload = operations.upload_product_image(
        files.get("file"), current_user(), form.get("product_id")
    )
    db.session.commit()
    return upload


@blp.route("/return", methods=["POST"])
@blp.response(201, UploadSchema, message="Image uploaded")
@_refusals
@customer_required
@blp.arguments(ImageFileSchema, location="files")
def upload_return_image(files):
    """Evidence for a return (customers): send its ``url`` in ``POST /returns``' images."""
    upload = operations.upload_return_image(files.get("file"), current_user())
    db.session.commit()
    return upload


@blp.route("/brand", methods=["POST"])
@blp.response(201, UploadSchema, message="Image uploaded")
@_refusals
@brand_uploader
@blp.arguments(BrandLogoSchema, location="form")
@blp.arguments(BrandLogoSchema, location="files")
def upload_brand_logo(form, files):
    """A brand logo (admins, product managers); with ``brand_id`` it becomes its logo."""
    upload = operations.upload_brand_logo(files.get("file"), current_user(), form.get("brand_id"))
    db.session.commit()
    return upload


@blp.route("/profile", methods=["POST"])
@blp.response(201, UploadSchema, message="Avatar updated")
@_refusals
@login_required
@blp.arguments(ImageFileSchema, location="files")
def upload_avatar(files):
    """Your avatar: sets ``avatar_url`` (the previous uploaded avatar is deleted)."""
    upload = operations.upload_avatar(files.get("file"), current_user())
    db.session.commit()
    return upload


@blp.route("/signature", methods=["POST"])
@blp.response(200, SignatureSchema)
@blp.alt_response(503, schema=ErrorEnvelopeSchema, description="PROVIDER_NOT_CONFIGURED")
@login_required
@blp.arguments(SignatureQuerySchema, location="query")
def upload_signature(query):
    """Parameters for one signed direct browser-to-Cloudinary upload of ``kind`` (same
    roles as its upload endpoint; valid one hour). Post the file with exactly these fields
    (not ``max_bytes``, ``kind`` or ``upload_url``) to ``upload_url``. 503 with local
    storage."""
    return operations.signature(query["kind"], current_user())


@blp.route("/direct", methods=["POST"])
@blp.response(201, UploadSchema, message="Image recorded")
@blp.fails(
    _403="INVALID_UPLOAD_SIGNATURE, FORBIDDEN",
    _409="UPLOAD_ALREADY_RECORDED",
    _413="FILE_TOO_LARGE (the asset is destroyed)",
    _503="PROVIDER_NOT_CONFIGURED",
)
@login_required
@blp.arguments(DirectUploadSchema)
def record_direct_upload(data):
    """Record an image the browser uploaded straight to Cloudinary with ``/signature``:
    send Cloudinary's answer (``public_id``, ``version``, ``signature``, ``format``,
    ``bytes``, ``width``, ``height``; other fields are ignored). Accepted only with
    Cloudinary's response signature for an asset in the kind's folder (else 403
    ``INVALID_UPLOAD_SIGNATURE``); over the size limit it is destroyed (413). The same
    answer again gives the same upload; someone else's, 409. Then attach it like any
    upload (product images, return evidence...)."""
    upload = operations.record_direct_upload(data, current_user())
    db.session.commit()
    return upload


@blp.route("/delete", methods=["DELETE"])
@blp.response(200, DeletedSchema, message="Image deleted")
@login_required
@blp.arguments(DeleteQuerySchema, location="query")
def delete_upload(query):
    """Delete an upload (``public_id`` or ``url``): yours, or any for admins. It is taken
    off the product, brand or profile using it and removed from storage."""
    upload = operations.delete_upload(current_user(), query.get("public_id"), query.get("url"))
    db.session.commit()
    return upload
