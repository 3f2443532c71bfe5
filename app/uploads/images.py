"""Every uploaded byte is hostile: read bounded, identify by content, re-encode.

``read_bounded`` stops reading past ``UPLOAD_MAX_BYTES``; ``process_image`` accepts
only JPEG, PNG and WebP *by content* (never by name or declared type), refuses an image
over ``UPLOAD_MAX_PIXELS`` from its header alone (before any pixel is decoded: a
decompression bomb costs nothing), then decodes and re-encodes it, which drops EXIF
(phone GPS), ICC and text chunks, and anything appended after the image (polyglots).
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from app.errors import ApiError, BadRequest
from app.services.storage import THUMBNAIL_SIZE

CHUNK = 64 * 1024
FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp"}
# Magic numbers of the formats we take: a file that starts like one but does not
# decode is corrupt (400); anything else is a type we refuse (415).
SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
JPEG_QUALITY = 85
WEBP_QUALITY = 85


class FileRequired(BadRequest):
    code = "FILE_REQUIRED"
    message = "Send the image as the multipart field 'file'"


class FileTooLarge(ApiError):
    status = 413
    code = "FILE_TOO_LARGE"
    message = "The file is too large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    message = "Only JPEG, PNG and WebP images are accepted"


class InvalidImage(BadRequest):
    code = "INVALID_IMAGE"
    message = "The image is truncated or corrupt"


class ImageTooLarge(BadRequest):
    code = "IMAGE_TOO_LARGE"
    message = "The image has too many pixels"


@dataclass(frozen=True)
class Processed:
    data: bytes
    thumbnail: bytes
    format: str  # jpeg, png, webp
    width: int
    height: int


def too_large(max_bytes: int) -> FileTooLarge:
    return FileTooLarge(
        f"Images are at most {max_bytes // (1024 * 1024)} MiB", details={"max_bytes": max_bytes}
    )


def read_bounded(stream: IO[bytes], max_bytes: int) -> bytes:
    """The stream's bytes, reading at most ``max_bytes + 1`` of them (413 beyond)."""
    buffer = bytearray()
    while chunk := stream.read(min(CHUNK, max_bytes + 1 - len(buffer))):
        buffer += chunk
        if len(buffer) > max_bytes:
            raise too_large(max_bytes)
    return bytes(buffer)


def _claims_supported_format(data: bytes) -> bool:
    return data.startswith(SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Identify the image from its header only; refuse other types and bombs."""
    if not data:
        raise InvalidImage("The file is empty")
    if not _claims_supported_format(data):
        raise UnsupportedMediaType()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=tuple(FORMATS))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _pixels(max_pixels) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
            raise InvalidImage() from None
    width, height = image.size
    if width < 1 or height < 1:
        raise InvalidImage()
    if width * height > max_pixels:
        raise _pixels(max_pixels, width, height)
    return image


def _pixels(max_pixels: int, width: int | None = None, height: int | None = None) -> ImageTooLarge:
    details = {"max_pixels": max_pixels} | (
        {"width": width, "height": height} if width is not None else {}
    )
    return ImageTooLarge(
        f"Images are at most {max_pixels / 1_000_000:g} megapixels", details=details
    )


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "jpeg":
        image.save(out, "JPEG", quality=JPEG_QUALITY)
    elif fmt == "png":
        image.save(out, "PNG")
    else:
        image.save(out, "WEBP", quality=WEBP_QUALITY)
    return out.getvalue()


def _normalise_mode(image: Image.Image, fmt: str) -> Image.Image:
    """A mode the format can write (CMYK and 16-bit JPEG/PNG become RGB/RGBA)."""
    if fmt == "jpeg":
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    if image.mode in ("RGB", "RGBA", "L", "LA", "P") and fmt == "png":
        return image
    return image.convert(
        "RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB"
    )


def process_image(data: bytes, *, max_pixels: int) -> Processed:
    """Check and re-encode an uploaded image (first frame only); raise a precise 4xx."""
    image = _open(data, max_pixels)
    fmt = FORMATS[image.format]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()  # decodes the pixels: truncated or corrupt data fails here
            image = ImageOps.exif_transpose(image)  # phones store rotation in EXIF
            image = _normalise_mode(image, fmt)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _pixels(max_pixels) from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error):
        raise InvalidImage() from None
    encoded = _encode(image, fmt)
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    return Processed(
        data=encoded,
        thumbnail=_encode(thumb, fmt),
        format=fmt,
        width=image.width,
        height=image.height,
    )
