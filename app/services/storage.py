"""Image storage: local disk (the default) or Cloudinary, with the same methods.

``LocalStorage`` writes under ``UPLOAD_DIR`` and its files are served at ``/media/``
(``app/uploads/routes.py``); ``CloudinaryStorage`` uploads through the official
``cloudinary`` package, which speaks Cloudinary's Upload API (wire-format reference,
section 10) over urllib3: ``CLOUDINARY_UPLOAD_PREFIX`` points it elsewhere (tests use a
local fake server). Both take already checked and re-encoded bytes and a folder per kind;
names are random, never the client's file name. ``build_storage`` picks one from config.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudinary.exceptions
import cloudinary.uploader
import cloudinary.utils

from app.errors import ProviderError

log = logging.getLogger(__name__)

MEDIA_PATH = "/media/"
THUMBNAIL_SIZE = 400  # the longer side of a thumbnail, in pixels
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
ALLOWED_FORMATS = "jpg,png,webp"  # Cloudinary's names, for signed direct uploads


@dataclass(frozen=True)
class Stored:
    """Where an image went: what the ``uploads`` row and the response record."""

    storage: str  # LOCAL or CLOUDINARY
    public_id: str
    url: str
    thumbnail_url: str
    bytes: int


def random_name() -> str:
    return secrets.token_hex(16)


class LocalStorage:
    """Files under ``root`` (``<folder>/<random>.<ext>`` and a ``_thumb`` twin), served at
    ``<base_url>/media/``; the public id is the path without extension."""

    name = "LOCAL"

    def __init__(self, *, root: str, base_url: str):
        self.root = Path(root)
        self.base_url = base_url.rstrip("/")

    def url_prefixes(self) -> tuple[str, ...]:
        return (f"{self.base_url}{MEDIA_PATH}",)

    def _path(self, public_id: str, fmt: str, suffix: str = "") -> Path:
        return self.root / f"{public_id}{suffix}.{EXTENSIONS[fmt]}"

    def _url(self, public_id: str, fmt: str, suffix: str = "") -> str:
        return f"{self.base_url}{MEDIA_PATH}{public_id}{suffix}.{EXTENSIONS[fmt]}"

    def save(self, data: bytes, *, folder: str, fmt: str, thumbnail: bytes) -> Stored:
        public_id = f"{folder}/{random_name()}"
        written = []
        try:
            for content, suffix in ((data, ""), (thumbnail, "_thumb")):
                path = self._path(public_id, fmt, suffix)
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "xb") as file:  # a random name: never overwrite
                    written.append(path)
                    file.write(content)
        except OSError as exc:
            for path in written:
                path.unlink(missing_ok=True)
            log.error("could not write upload %s: %s", public_id, exc)
            raise ProviderError("The image could not be stored", code="STORAGE_ERROR") from None
        return Stored(
            storage=self.name,
            public_id=public_id,
            url=self._url(public_id, fmt),
            thumbnail_url=self._url(public_id, fmt, "_thumb"),
            bytes=len(data),
        )

    def delete(self, public_id: str, fmt: str) -> None:
        for suffix in ("", "_thumb"):
            self._path(public_id, fmt, suffix).unlink(missing_ok=True)


class CloudinaryStorage:
    """Cloudinary's Upload API through the official SDK; folders under ``base_folder``."""

    name = "CLOUDINARY"

    def __init__(
        self,
        *,
        cloud_name: str,
        api_key: str,
        api_secret: str,
        upload_prefix: str,
        base_folder: str,
        timeout: float = 30.0,
    ):
        self.cloud_name = cloud_name
        self.api_key = api_key
        self.api_secret = api_secret
        self.upload_prefix = upload_prefix
        self.base_folder = base_folder.strip("/")
        self.timeout = timeout

    @property
    def _credentials(self) -> dict[str, str]:
        return {
            "cloud_name": self.cloud_name,
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            "upload_prefix": self.upload_prefix,
        }

    def url_prefixes(self) -> tuple[str, ...]:
        return (f"https://res.cloudinary.com/{self.cloud_name}/image/upload/",)

    def folder(self, folder: str) -> str:
        return f"{self.base_folder}/{folder}" if self.base_folder else folder

    def _delivery_url(self, public_id: str, fmt: str, **options) -> str:
        url, _ = cloudinary.utils.cloudinary_url(
            public_id, cloud_name=self.cloud_name, secure=True, format=EXTENSIONS[fmt], **options
        )
        return url

    def thumbnail_url(self, public_id: str, fmt: str) -> str:
        return self._delivery_url(
            public_id, fmt, width=THUMBNAIL_SIZE, height=THUMBNAIL_SIZE, crop="limit"
        )

    def asset_url(self, public_id: str, fmt: str, version: int) -> str:
        return self._delivery_url(public_id, fmt, version=version)

    def _call(self, action: str, function, *args, **options) -> dict[str, Any]:
        try:
            return function(*args, timeout=self.timeout, **self._credentials, **options)
        except cloudinary.exceptions.Error as exc:
            log.warning("Cloudinary %s failed: %s", action, exc)
            raise ProviderError(
                "The image service could not store the image",
                details={"provider": "CLOUDINARY"},
            ) from None

    def save(self, data: bytes, *, folder: str, fmt: str, thumbnail: bytes) -> Stored:
        result = self._call(
            "upload",
            cloudinary.uploader.upload,
            data,
            folder=self.folder(folder),
            public_id=random_name(),
            overwrite=False,
            resource_type="image",
        )
        try:
            public_id, url, size = result["public_id"], result["secure_url"], int(result["bytes"])
        except (KeyError, TypeError, ValueError):
            log.warning("Cloudinary upload answered without an asset: %r", result)
            raise ProviderError(
                "The image service gave an unexpected answer", details={"provider": "CLOUDINARY"}
            ) from None
        return Stored(
            storage=self.name,
            public_id=public_id,
            url=url,
            thumbnail_url=self.thumbnail_url(public_id, fmt),
            bytes=size,
        )

    def delete(self, public_id: str, fmt: str) -> None:
        """Destroy the asset; ``{"result": "not found"}`` is already deleted."""
        self._call(
            "destroy",
            cloudinary.uploader.destroy,
            public_id,
            invalidate=True,
            resource_type="image",
        )

    def is_direct_upload(self, folder: str, public_id: str, version: int, signature: str) -> bool:
        """A browser's report of its direct upload is Cloudinary's own: the upload
        response's ``signature`` is the hex SHA-1 of ``public_id=<id>&version=<version>``
        followed by the API secret, and the asset is in the folder the upload was signed
        for (``signature()``)."""
        expected = hashlib.sha1(  # noqa: S324 - Cloudinary's response signature
            f"public_id={public_id}&version={version}{self.api_secret}".encode()
        ).hexdigest()
        return public_id.startswith(f"{self.folder(folder)}/") and hmac.compare_digest(
            expected, signature.strip().lower()
        )

    def signature(self, folder: str) -> dict[str, Any]:
        """Signed parameters for one direct browser upload (valid one hour)."""
        params = {
            "allowed_formats": ALLOWED_FORMATS,
            "folder": self.folder(folder),
            "timestamp": int(time.time()),
        }
        signature = cloudinary.utils.api_sign_request(params, self.api_secret)
        return params | {
            "signature": signature,
            "api_key": self.api_key,
            "cloud_name": self.cloud_name,
            "upload_url": f"{self.upload_prefix}/v1_1/{self.cloud_name}/image/upload",
        }


Storage = LocalStorage | CloudinaryStorage


def build_storage(config: Mapping[str, Any]) -> Storage:
    """Cloudinary when its three credentials are set, else the local disk."""
    if (
        config["CLOUDINARY_CLOUD_NAME"]
        and config["CLOUDINARY_API_KEY"]
        and config["CLOUDINARY_API_SECRET"]
    ):
        return CloudinaryStorage(
            cloud_name=config["CLOUDINARY_CLOUD_NAME"],
            api_key=config["CLOUDINARY_API_KEY"],
            api_secret=config["CLOUDINARY_API_SECRET"],
            upload_prefix=config["CLOUDINARY_UPLOAD_PREFIX"],
            base_folder=config["CLOUDINARY_FOLDER"],
        )
    os.makedirs(config["UPLOAD_DIR"], exist_ok=True)
    return LocalStorage(root=config["UPLOAD_DIR"], base_url=config["BACKEND_URL"])
