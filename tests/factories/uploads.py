"""Image bytes as phones and attackers send them, and upload rows."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import timedelta

import factory
from PIL import Image

from app.db import utcnow
from app.uploads.models import Upload, UploadKind
from tests.factories.auth import UserFactory
from tests.factories.base import Factory


def image_bytes(fmt: str = "JPEG", size=(64, 48), *, exif: bytes | None = None, **save) -> bytes:
    """A small real image; ``exif`` (raw) is embedded when given."""
    colour = (200, 30, 30, 255) if fmt == "PNG" else (200, 30, 30)
    image = Image.new("RGBA" if fmt == "PNG" else "RGB", size, colour)
    out = io.BytesIO()
    if exif is not None:
        save["exif"] = exif
    image.save(out, fmt, **save)
    return out.getvalue()


def gps_exif() -> bytes:
    """EXIF with a GPS position (Nairobi) and a camera make, as phones write it."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "S", 2: (1.0, 17.0, 0.0), 3: "E", 4: (36.0, 49.0, 0.0)}  # GPSInfo
    return exif.tobytes()


def photo_bytes(target_bytes: int = 3 * 1024 * 1024) -> bytes:
    """A phone-like JPEG with GPS EXIF of about ``target_bytes`` (noise compresses badly,
    like a photo's detail)."""
    side = 1200
    while True:
        noise = Image.effect_noise((side, side), 40).convert("RGB")
        image = Image.blend(noise, Image.new("RGB", (side, side), (90, 140, 200)), 0.4)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=95, exif=gps_exif())
        if out.tell() >= target_bytes * 0.95 or side >= 6000:
            return out.getvalue()
        side = int(side * (target_bytes / out.tell()) ** 0.5) + 32


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb:
    its zlib stream of zeros would inflate to gigabytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    data = b"".join(compressor.compress(row) for _ in range(64)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


ZIP = (
    b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x08\x00\x00\x00evil.php<?php system($_GET['c']); ?>PK\x05\x06" + b"\x00" * 18
)
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(document.cookie)</script></svg>"
)
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def multipart(
    data: bytes | None, name: str = "photo.jpg", content_type: str = "image/jpeg", **fields
) -> tuple[bytes, str]:
    """A multipart/form-data body with ``fields`` and the file (when given) as ``file``,
    built in memory (the test client would spool a large one to an unclosed temp file)."""
    boundary = "qg-test-boundary-7f3a"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    if data is not None:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class UploadFactory(Factory):
    """A row as if uploaded (no file behind it unless the test writes one)."""

    class Meta:
        model = Upload
        exclude = ("owner",)

    owner = factory.SubFactory(UserFactory)
    owner_id = factory.SelfAttribute("owner.id")
    kind = UploadKind.PRODUCT
    storage = "LOCAL"
    public_id = factory.Sequence(lambda n: f"products/{n:032x}")
    url = factory.LazyAttribute(lambda o: f"http://localhost:5000/media/{o.public_id}.jpg")
    thumbnail_url = factory.LazyAttribute(
        lambda o: f"http://localhost:5000/media/{o.public_id}_thumb.jpg"
    )
    format = "jpeg"
    bytes = 1000
    width = 64
    height = 48

    class Params:
        stale = factory.Trait(
            created_at=factory.LazyFunction(lambda: utcnow() - timedelta(hours=25))
        )
