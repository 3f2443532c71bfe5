"""Every byte is hostile: each bad file gets a precise 4xx, never a 500, and nothing is
stored (no row, no file)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.uploads.models import Upload
from tests.factories.uploads import HTML, SVG, ZIP, image_bytes, multipart, png_bomb

JPEG = image_bytes("JPEG", (320, 240))
PNG = image_bytes("PNG", (64, 64))


def files_stored(app) -> list[Path]:
    return [path for path in Path(app.config["UPLOAD_DIR"]).rglob("*") if path.is_file()]


def post(client, headers, data: bytes | None, name="photo.png", content_type="image/png"):
    body, multipart_type = multipart(data, name, content_type)
    return client.post(
        "/api/uploads/return", data=body, headers=headers, content_type=multipart_type
    )


def corrupt_png() -> bytes:
    """A PNG whose IDAT data is damaged (zlib fails) but whose header is fine."""
    data = bytearray(image_bytes("PNG", (200, 200)))
    start = data.index(b"IDAT") + 8
    data[start : start + 40] = b"\xff" * 40
    return bytes(data)


CASES = [
    pytest.param(None, 400, "FILE_REQUIRED", id="no file"),
    pytest.param(b"", 400, "INVALID_IMAGE", id="zero bytes"),
    pytest.param(JPEG[: len(JPEG) // 2], 400, "INVALID_IMAGE", id="truncated JPEG"),
    pytest.param(JPEG[:20], 400, "INVALID_IMAGE", id="JPEG header only"),
    pytest.param(corrupt_png(), 400, "INVALID_IMAGE", id="corrupt PNG data"),
    pytest.param(png_bomb(), 400, "IMAGE_TOO_LARGE", id="PNG bomb 50000x50000"),
    pytest.param(png_bomb(7000, 6000), 400, "IMAGE_TOO_LARGE", id="PNG 42 MP"),
    pytest.param(SVG, 415, "UNSUPPORTED_MEDIA_TYPE", id="SVG renamed .png"),
    pytest.param(HTML, 415, "UNSUPPORTED_MEDIA_TYPE", id="HTML"),
    pytest.param(ZIP, 415, "UNSUPPORTED_MEDIA_TYPE", id="ZIP"),
    pytest.param(image_bytes("GIF"), 415, "UNSUPPORTED_MEDIA_TYPE", id="GIF"),
    pytest.param(image_bytes("BMP"), 415, "UNSUPPORTED_MEDIA_TYPE", id="BMP"),
    pytest.param(image_bytes("TIFF"), 415, "UNSUPPORTED_MEDIA_TYPE", id="TIFF"),
    pytest.param(b"%PDF-1.7\n" + os.urandom(200), 415, "UNSUPPORTED_MEDIA_TYPE", id="PDF"),
    pytest.param(
        b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8, 400, "INVALID_IMAGE", id="bad WebP"
    ),
    pytest.param(os.urandom(6_000_000), 413, "FILE_TOO_LARGE", id="6 MB"),
    pytest.param(JPEG + os.urandom(5 * 1024 * 1024), 413, "FILE_TOO_LARGE", id="5 MiB + a JPEG"),
]


@pytest.mark.parametrize(("data", "status", "code"), CASES)
def test_bad_files_get_a_precise_refusal_and_nothing_is_stored(
    app, client, customer_headers, data, status, code
):
    response = post(client, customer_headers, data)
    assert (response.status_code, response.json["error"]["code"]) == (status, code)
    assert db.session.scalar(select(func.count()).select_from(Upload)) == 0
    assert files_stored(app) == []


def test_a_body_over_max_content_length_is_refused_before_it_is_read(client, customer_headers):
    response = post(client, customer_headers, b"\xff\xd8\xff" + b"\x00" * (11 * 1024 * 1024))
    assert (response.status_code, response.json["error"]["code"]) == (413, "FILE_TOO_LARGE")


def test_a_jpeg_with_a_zip_appended_is_stored_without_the_zip(app, client, customer_headers):
    response = post(client, customer_headers, JPEG + ZIP, name="polyglot.jpg.php")
    assert response.status_code == 201
    (stored,) = [p for p in files_stored(app) if "_thumb" not in p.name]
    assert stored.suffix == ".jpg" and b"PK\x03\x04" not in stored.read_bytes()
    assert b"evil.php" not in stored.read_bytes()


def test_the_declared_type_and_name_are_ignored(client, customer_headers):
    response = post(client, customer_headers, SVG, name="cat.jpg", content_type="image/jpeg")
    assert response.status_code == 415
    accepted = post(
        client, customer_headers, PNG, name="../../etc/passwd", content_type="text/html"
    )
    assert accepted.status_code == 201
    assert "passwd" not in accepted.json["data"]["url"]
    assert accepted.json["data"]["format"] == "png"


def mutations(seed: int):
    """Random damage to real images: flipped bytes, cut tails, spliced garbage."""
    rng = random.Random(seed)
    for _ in range(60):
        data = bytearray(rng.choice([JPEG, PNG, image_bytes("WEBP", (50, 50))]))
        action = rng.choice(["flip", "cut", "splice", "random"])
        if action == "flip":
            for _ in range(rng.randint(1, 30)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif action == "cut":
            data = data[: rng.randrange(len(data))]
        elif action == "splice":
            at = rng.randrange(len(data))
            data[at:at] = rng.randbytes(rng.randint(1, 500))
        else:
            data = bytearray(rng.randbytes(rng.randint(0, 3000)))
        yield bytes(data)


def test_fuzz_random_damage_never_500s_and_stores_only_what_it_accepts(
    app, client, customer_headers
):
    accepted = 0
    for data in mutations(seed=16):
        response = post(client, customer_headers, data)
        assert response.status_code in (201, 400, 413, 415), response.json
        if response.status_code == 201:
            accepted += 1
        else:
            assert response.json["error"]["code"] in {
                "INVALID_IMAGE",
                "UNSUPPORTED_MEDIA_TYPE",
                "IMAGE_TOO_LARGE",
                "FILE_TOO_LARGE",
            }
    assert db.session.scalar(select(func.count()).select_from(Upload)) == accepted
    assert len(files_stored(app)) == 2 * accepted  # each image and its thumbnail
