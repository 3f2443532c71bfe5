"""Upload rules: store a checked image, attach it where it is used, delete it, purge.

Plain functions that flush and never commit. A stored file whose row does not make it
into the database (a refusal after the save) is removed again at once; files of deleted
rows are removed once the deletion commits (``after_commit``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from werkzeug.datastructures import FileStorage

from app.auth.access import role_allows
from app.auth.models import User, UserRole
from app.catalog import operations as catalog
from app.catalog import taxonomy
from app.catalog.models import Brand, Product
from app.catalog.schemas import MAX_IMAGES
from app.db import after_commit, get_or_404, utcnow
from app.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ProviderNotConfigured,
    Unprocessable,
    ValidationFailed,
)
from app.extensions import db
from app.services import image_storage
from app.services.storage import LocalStorage
from app.signals import upload_removing
from app.uploads.images import FileRequired, process_image, read_bounded, too_large
from app.uploads.models import Upload, UploadKind

# Who may upload (and ask a signature for) each kind; ADMIN passes admin sub-roles.
UPLOADERS: dict[UploadKind, tuple[UserRole, ...] | None] = {
    UploadKind.PRODUCT: (UserRole.SUPPLIER, UserRole.PRODUCT_MANAGER),
    UploadKind.RETURN: (UserRole.CUSTOMER,),
    UploadKind.BRAND: (UserRole.PRODUCT_MANAGER,),
    UploadKind.PROFILE: None,  # anyone signed in
}


def check_uploader(user: User, kind: UploadKind) -> None:
    roles = UPLOADERS[kind]
    if roles is not None and not role_allows(user, roles):
        raise Forbidden(f"You may not upload {kind.folder} images")
    if (
        user.role == UserRole.SUPPLIER
        and kind == UploadKind.PRODUCT
        and not (user.supplier_profile and user.supplier_profile.is_approved)
    ):
        raise Forbidden("Your supplier account is awaiting approval", code="SUPPLIER_NOT_APPROVED")


def _file_bytes(file: FileStorage | None) -> bytes:
    if file is None:
        raise FileRequired()
    return read_bounded(file.stream, current_app.config["UPLOAD_MAX_BYTES"])


def store(
    file: FileStorage | None, kind: UploadKind, owner: User, attached_to: str | None = None
) -> Upload:
    """Check, re-encode and store one image; its ``uploads`` row (flushed)."""
    image = process_image(_file_bytes(file), max_pixels=current_app.config["UPLOAD_MAX_PIXELS"])
    storage = image_storage()
    stored = storage.save(
        image.data, folder=kind.folder, fmt=image.format, thumbnail=image.thumbnail
    )
    upload = Upload(
        owner_id=owner.id,
        kind=kind,
        storage=stored.storage,
        public_id=stored.public_id,
        url=stored.url,
        thumbnail_url=stored.thumbnail_url,
        format=image.format,
        bytes=stored.bytes,
        width=image.width,
        height=image.height,
        attached_to=attached_to,
        attached_at=utcnow() if attached_to else None,
    )
    db.session.add(upload)
    _undo_on_error(upload, db.session.flush)
    return upload


def _undo_on_error(upload: Upload, action) -> Any:
    """Run ``action``; when it fails, the file just stored goes too."""
    try:
        return action()
    except Exception:
        _remove_file(image_storage(), upload.public_id, upload.format)
        raise


def upload_product_image(file: FileStorage | None, user: User, product_id: int | None) -> Upload:
    """A product image; with ``product_id`` (a product the caller manages) it is appended
    to that product's images."""
    check_uploader(user, UploadKind.PRODUCT)
    if product_id is None:
        return store(file, UploadKind.PRODUCT, user)
    product = catalog.get_managed_product(product_id, user)
    if len(product.images or []) >= MAX_IMAGES:
        raise Unprocessable(f"A product has at most {MAX_IMAGES} images", code="TOO_MANY_IMAGES")
    upload = store(file, UploadKind.PRODUCT, user)
    # The catalog's own update: its product_images_set attaches the upload.
    _undo_on_error(
        upload,
        lambda: catalog.update_product(product, {"images": [*product.images, upload.url]}, user),
    )
    return upload


def upload_return_image(file: FileStorage | None, user: User) -> Upload:
    """Evidence for a return; ``POST /returns`` attaches it (``attach_uploads``)."""
    check_uploader(user, UploadKind.RETURN)
    return store(file, UploadKind.RETURN, user)


def upload_brand_logo(file: FileStorage | None, user: User, brand_id: int | None) -> Upload:
    """A brand logo; with ``brand_id`` it becomes that brand's logo (the old one released)."""
    check_uploader(user, UploadKind.BRAND)
    brand = get_or_404(Brand, brand_id) if brand_id is not None else None
    upload = store(file, UploadKind.BRAND, user)
    if brand is not None:
        _undo_on_error(upload, lambda: _set_brand_logo(brand, upload))
    return upload


def _set_brand_logo(brand: Brand, upload: Upload) -> None:
    target = f"brand:{brand.id}"
    release(target)
    taxonomy.save_brand(brand, {"logo_url": upload.url})
    _attach(upload, target)


def upload_avatar(file: FileStorage | None, user: User) -> Upload:
    """The caller's avatar (``avatar_url``); the previous uploaded one is deleted."""
    target = f"user:{user.id}"
    previous = db.session.scalars(select(Upload).where(Upload.attached_to == target)).all()
    upload = store(file, UploadKind.PROFILE, user, attached_to=target)
    user.avatar_url = upload.url
    for old in previous:
        _delete(old)
    db.session.flush()
    return upload


def signature(kind: UploadKind, user: User) -> dict[str, Any]:
    """Signed parameters for one direct browser-to-Cloudinary upload of ``kind``."""
    check_uploader(user, kind)
    storage = image_storage()
    if isinstance(storage, LocalStorage):
        raise ProviderNotConfigured(
            "Direct uploads need Cloudinary; send the file to POST /api/uploads/<kind>"
        )
    return storage.signature(kind.folder) | {
        "max_bytes": current_app.config["UPLOAD_MAX_BYTES"],
        "kind": kind,
    }


CLOUDINARY_FORMATS = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp"}


def record_direct_upload(data: dict[str, Any], user: User) -> Upload:
    """The ``uploads`` row of an image the browser sent straight to Cloudinary with a
    ``signature()``: accepted only with Cloudinary's response signature for it, in the
    kind's folder, within the size limit (a larger one is destroyed); the same report
    again answers the same row. From then on it is attached and purged like any upload."""
    kind = data["kind"]
    check_uploader(user, kind)
    storage = image_storage()
    if isinstance(storage, LocalStorage):
        raise ProviderNotConfigured("Direct uploads need Cloudinary")
    public_id, version = data["public_id"], data["version"]
    if not storage.is_direct_upload(kind.folder, public_id, version, data["signature"]):
        raise Forbidden(
            "This is not an upload Cloudinary made for this kind", code="INVALID_UPLOAD_SIGNATURE"
        )
    existing = db.session.scalar(select(Upload).where(Upload.public_id == public_id))
    if existing is not None:
        if existing.owner_id != user.id:
            raise Conflict("This image is already recorded", code="UPLOAD_ALREADY_RECORDED")
        return existing
    fmt = CLOUDINARY_FORMATS[data["format"]]
    if data["bytes"] > current_app.config["UPLOAD_MAX_BYTES"]:
        _remove_file(storage, public_id, fmt)
        raise too_large(current_app.config["UPLOAD_MAX_BYTES"])
    upload = Upload(
        owner_id=user.id,
        kind=kind,
        storage=storage.name,
        public_id=public_id,
        url=storage.asset_url(public_id, fmt, version),
        thumbnail_url=storage.thumbnail_url(public_id, fmt),
        format=fmt,
        bytes=data["bytes"],
        width=data["width"],
        height=data["height"],
    )
    db.session.add(upload)
    db.session.flush()
    return upload


# ---- attaching ----------------------------------------------------------------------


def _attach(upload: Upload, target: str) -> None:
    upload.attached_to, upload.attached_at = target, utcnow()


def attach_uploads(
    urls: Iterable[str], *, kind: UploadKind, owner_id: int | None, attached_to: str
) -> list[Upload]:
    """Mark these URLs, which must be our uploads of ``kind`` (by ``owner_id`` unless
    None) not attached elsewhere, attached to ``attached_to`` (``"return:5"``).

    For other domains (returns' ``images``): an URL that is not such an upload is a 400
    ``VALIDATION_ERROR`` naming it; nothing is attached then.
    """
    wanted = list(dict.fromkeys(urls))
    if not wanted:
        return []
    found = {
        upload.url: upload
        for upload in db.session.scalars(
            select(Upload).where(Upload.url.in_(wanted)).with_for_update()
        )
    }
    bad = [
        url
        for url in wanted
        if url not in found
        or found[url].kind != kind
        or (owner_id is not None and found[url].owner_id != owner_id)
        or found[url].attached_to not in (None, attached_to)
    ]
    if bad:
        raise ValidationFailed(
            details={"images": [f"Not one of your {kind.folder} uploads: {url}" for url in bad]}
        )
    for url in wanted:
        if found[url].attached_to is None:
            _attach(found[url], attached_to)
    db.session.flush()
    return [found[url] for url in wanted]


def is_upload(url: str, *, kind: UploadKind, owner_id: int | None = None) -> bool:
    """Is ``url`` one of our uploads of ``kind`` (by ``owner_id`` when given)?"""
    query = select(Upload.id).where(Upload.url == url, Upload.kind == kind)
    if owner_id is not None:
        query = query.where(Upload.owner_id == owner_id)
    return db.session.scalar(query) is not None


def release(attached_to: str, keep: Iterable[str] = ()) -> None:
    """What ``attached_to`` no longer uses becomes unattached (purged in 24 h)."""
    db.session.execute(
        update(Upload)
        .where(Upload.attached_to == attached_to, Upload.url.not_in(list(keep)))
        .values(attached_to=None, attached_at=None),
        execution_options={"synchronize_session": False},
    )


def sync_product_images(product_id: int, images: list[str]) -> None:
    """A product's images are these: our product uploads among them are attached to it
    (when not used elsewhere), the ones it dropped released."""
    target = f"product:{product_id}"
    release(target, keep=images)
    db.session.execute(
        update(Upload)
        .where(
            Upload.url.in_(images),
            Upload.kind == UploadKind.PRODUCT,
            Upload.attached_to.is_(None),
        )
        .values(attached_to=target, attached_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


# ---- deleting -----------------------------------------------------------------------


def find_upload(user: User, public_id: str | None, url: str | None) -> Upload:
    """The caller's upload (any, for admins) by public id or URL; else 404."""
    column, value = (Upload.public_id, public_id) if public_id else (Upload.url, url)
    upload = db.session.scalar(select(Upload).where(column == value))
    if upload is None or not (upload.owner_id == user.id or user.role == UserRole.ADMIN):
        raise NotFound("Upload not found")
    return upload


def _delete(upload: Upload) -> None:
    """Delete the row now and the file once that commits."""
    storage, public_id, fmt = image_storage(), upload.public_id, upload.format
    db.session.delete(upload)
    after_commit(db.session(), lambda: _remove_file(storage, public_id, fmt))


def _remove_file(storage, public_id: str, fmt: str) -> None:
    try:
        storage.delete(public_id, fmt)
    except Exception:  # the row is gone: a file left behind costs only space
        current_app.logger.exception("could not remove upload %s", public_id)


def delete_upload(user: User, public_id: str | None, url: str | None) -> Upload:
    """Remove an upload from storage and from wherever it is attached."""
    upload = find_upload(user, public_id, url)
    attached_to = upload.attached_to
    kind, _, target_id = (attached_to or "").partition(":")
    if kind == "product" and target_id.isdigit():
        product = db.session.get(Product, int(target_id))
        if product is not None and upload.url in (product.images or []):
            images = [image for image in product.images if image != upload.url]
            catalog.update_product(product, {"images": images}, user)
    elif kind == "brand" and target_id.isdigit():
        brand = db.session.get(Brand, int(target_id))
        if brand is not None and brand.logo_url == upload.url:
            taxonomy.save_brand(brand, {"logo_url": None})
    elif kind == "user" and target_id.isdigit():
        owner = db.session.get(User, int(target_id))
        if owner is not None and owner.avatar_url == upload.url:
            owner.avatar_url = None
    upload_removing.send(upload, url=upload.url, attached_to=attached_to)
    _delete(upload)
    db.session.flush()
    return upload


def delete_uploads(uploads: Iterable[Upload]) -> int:
    """Delete these rows now and their files once that commits; how many."""
    count = 0
    for upload in uploads:
        _delete(upload)
        count += 1
    db.session.flush()
    return count


def delete_attached(attached_to: str) -> int:
    """Delete every upload attached to ``attached_to`` (its owner is being deleted)."""
    return delete_uploads(
        db.session.scalars(select(Upload).where(Upload.attached_to == attached_to)).all()
    )
