"""Request and response schemas of uploads."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload as FileField
from marshmallow import validate

from app.fields import Id
from app.uploads.models import UploadKind


class ImageFileSchema(ma.Schema):
    file = FileField(
        metadata={
            "description": "A JPEG, PNG or WebP image (checked by content, at most "
            "UPLOAD_MAX_BYTES and UPLOAD_MAX_PIXELS); re-encoded, metadata dropped."
        }
    )


class ProductImageSchema(ImageFileSchema):
    """Read twice: ``product_id`` from the form, ``file`` from the files (one multipart
    body in the docs)."""

    product_id = Id(metadata={"description": "Append the image to this product's images (yours)."})


class BrandLogoSchema(ImageFileSchema):
    """As ``ProductImageSchema``."""

    brand_id = Id(metadata={"description": "Make the image this brand's logo."})


class UploadSchema(ma.Schema):
    url = ma.fields.String(required=True)
    public_id = ma.fields.String(required=True)
    width = ma.fields.Integer(required=True)
    height = ma.fields.Integer(required=True)
    format = ma.fields.String(
        required=True, metadata={"enum": ["jpeg", "png", "webp"], "example": "jpeg"}
    )
    bytes = ma.fields.Integer(required=True, metadata={"description": "Size as stored."})
    kind = ma.fields.Enum(UploadKind, required=True)
    thumbnail_url = ma.fields.String(required=True)


class SignatureQuerySchema(ma.Schema):
    kind = ma.fields.Enum(UploadKind, required=True)


class SignatureSchema(ma.Schema):
    cloud_name = ma.fields.String()
    api_key = ma.fields.String()
    timestamp = ma.fields.Integer()
    folder = ma.fields.String()
    signature = ma.fields.String()
    allowed_formats = ma.fields.String(metadata={"example": "jpg,png,webp"})
    max_bytes = ma.fields.Integer()
    upload_url = ma.fields.String(
        metadata={"description": "Where the browser posts the file with these fields."}
    )
    kind = ma.fields.Enum(UploadKind)


class DirectUploadSchema(ma.Schema):
    """What Cloudinary answered the browser's direct upload (its fields, as sent)."""

    kind = ma.fields.Enum(UploadKind, required=True)
    public_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=255))
    version = ma.fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    signature = ma.fields.String(required=True, validate=validate.Length(min=40, max=64))
    format = ma.fields.String(
        required=True, validate=validate.OneOf(["jpg", "jpeg", "png", "webp"])
    )
    bytes = ma.fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    width = ma.fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    height = ma.fields.Integer(required=True, strict=False, validate=validate.Range(min=1))

    class Meta:
        unknown = ma.EXCLUDE  # the rest of Cloudinary's answer (url, etag, tags...)


class DeleteQuerySchema(ma.Schema):
    public_id = ma.fields.String(validate=validate.Length(min=1, max=255))
    url = ma.fields.String(validate=validate.Length(min=1, max=500))

    @ma.validates_schema
    def _one_of(self, data, **kwargs):
        if bool(data.get("public_id")) == bool(data.get("url")):
            raise ma.ValidationError("Give either public_id or url.", field_name="public_id")


class DeletedSchema(ma.Schema):
    public_id = ma.fields.String()
    url = ma.fields.String()
