"""Cloudinary at the HTTP boundary: the official SDK talks to a local fake server that
speaks Cloudinary's Upload API (wire-format reference, section 10)."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from contextlib import contextmanager
from wsgiref.simple_server import WSGIRequestHandler, make_server

import cloudinary.utils
from sqlalchemy import func, select
from werkzeug.wrappers import Request, Response

from app.extensions import db
from app.services.storage import build_storage
from app.uploads.models import Upload
from tests.factories.auth import UserFactory
from tests.factories.uploads import image_bytes

SECRET = "cld-secret-0123456789"
CLOUD = "qg-test"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def fake_cloudinary(app, monkeypatch, mode: str = "ok"):
    """Run the fake Upload API and point the app's storage at it; yields what it got."""
    received: list[dict] = []

    def wsgi(environ, start_response):
        request = Request(environ)
        form = request.form.to_dict()
        file = request.files.get("file")
        received.append(
            {
                "path": request.path,
                "form": form,
                "file": file.read() if file else None,
                "user_agent": request.headers.get("User-Agent", ""),
            }
        )
        request.close()
        if mode == "error":
            body, status = {"error": {"message": "General Error"}}, "500 Internal Server Error"
        elif mode == "bad-signature":
            message = "Invalid Signature abc. String to sign - 'timestamp=1'."
            body, status = {"error": {"message": message}}, "401 Unauthorized"
        elif request.path.endswith("/destroy"):
            body, status = {"result": "ok"}, "200 OK"
        else:
            public_id = f"{form['folder']}/{form['public_id']}"
            body = {
                "asset_id": "3515c6000a548515f1134043f9785c2f",
                "public_id": public_id,
                "version": 1719307544,
                "signature": "d0b1009e3271a942836c25756ce3e04d205bf754",
                "width": 64,
                "height": 48,
                "format": "jpg",
                "resource_type": "image",
                "created_at": "2024-06-25T09:25:44Z",
                "bytes": 896838,
                "type": "upload",
                "url": f"http://res.cloudinary.com/{CLOUD}/image/upload/v1719307544/{public_id}.jpg",
                "secure_url": f"https://res.cloudinary.com/{CLOUD}/image/upload/v1719307544/{public_id}.jpg",
                "original_filename": "file",
                "api_key": "614335564976464",
            }
            status = "200 OK"
        return Response(json.dumps(body), status=status, mimetype="application/json")(
            environ, start_response
        )

    server = make_server("127.0.0.1", 0, wsgi, handler_class=_Quiet)
    port = server.server_port
    if mode == "down":
        server.server_close()  # nothing listens there any more
    else:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    storage = build_storage(
        {
            "CLOUDINARY_CLOUD_NAME": CLOUD,
            "CLOUDINARY_API_KEY": "614335564976464",
            "CLOUDINARY_API_SECRET": SECRET,
            "CLOUDINARY_UPLOAD_PREFIX": f"http://127.0.0.1:{port}",
            "CLOUDINARY_FOLDER": "qg",
        }
    )
    monkeypatch.setitem(app.extensions, "image_storage", storage)
    try:
        yield received
    finally:
        if mode != "down":
            server.shutdown()
            server.server_close()


def post(client, path, headers, data):
    return client.post(
        f"/api/uploads/{path}",
        data={"file": (io.BytesIO(data), "p.jpg")},
        headers=headers,
        content_type="multipart/form-data",
    )


def expected_signature(form: dict) -> str:
    signed = {k: v for k, v in form.items() if k not in ("file", "api_key", "signature")}
    to_sign = "&".join(f"{key}={signed[key]}" for key in sorted(signed))
    return hashlib.sha1((to_sign + SECRET).encode()).hexdigest()


def test_upload_goes_to_cloudinary_signed_in_its_folder(app, client, monkeypatch, supplier_headers):
    with fake_cloudinary(app, monkeypatch) as received:
        response = post(client, "product", supplier_headers, image_bytes("JPEG", (64, 48)))
    assert response.status_code == 201, response.json
    (call,) = received
    assert call["path"] == f"/v1_1/{CLOUD}/image/upload"
    assert call["user_agent"].startswith("CloudinaryPython/")
    form = call["form"]
    assert form["folder"] == "qg/products" and form["overwrite"] == "0"
    assert form["api_key"] == "614335564976464" and "timestamp" in form
    assert form["signature"] == expected_signature(form)
    assert call["file"][:3] == b"\xff\xd8\xff"  # the re-encoded JPEG, not the client's bytes

    data = response.json["data"]
    assert data["url"].startswith(f"https://res.cloudinary.com/{CLOUD}/image/upload/")
    assert data["public_id"] == f"qg/products/{form['public_id']}"
    assert data["bytes"] == 896838 and data["format"] == "jpeg"
    assert "c_limit,h_400,w_400" in data["thumbnail_url"]
    row = db.session.scalar(select(Upload))
    assert (row.storage, row.url) == ("CLOUDINARY", data["url"])


def test_cloudinary_failures_are_502_and_nothing_is_recorded(
    app, client, monkeypatch, customer_headers
):
    for mode in ("error", "bad-signature", "down"):
        with fake_cloudinary(app, monkeypatch, mode):
            response = post(client, "return", customer_headers, image_bytes())
        assert (response.status_code, response.json["error"]["code"]) == (502, "PROVIDER_ERROR")
    assert db.session.scalar(select(func.count()).select_from(Upload)) == 0


def test_delete_destroys_the_asset(app, client, monkeypatch, customer_headers):
    with fake_cloudinary(app, monkeypatch) as received:
        data = post(client, "return", customer_headers, image_bytes()).json["data"]
        response = client.delete(
            f"/api/uploads/delete?public_id={data['public_id']}", headers=customer_headers
        )
    assert response.status_code == 200
    destroy = received[-1]
    assert destroy["path"] == f"/v1_1/{CLOUD}/image/destroy"
    assert destroy["form"]["public_id"] == data["public_id"]
    assert destroy["form"]["invalidate"] == "1"
    assert destroy["form"]["signature"] == expected_signature(destroy["form"])


def test_signature_signs_exactly_what_the_browser_sends(app, client, monkeypatch, customer_headers):
    with fake_cloudinary(app, monkeypatch):
        response = client.post("/api/uploads/signature?kind=RETURN", headers=customer_headers)
        refused = client.post("/api/uploads/signature?kind=BRAND", headers=customer_headers)
    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert data["cloud_name"] == CLOUD and data["folder"] == "qg/returns"
    assert data["allowed_formats"] == "jpg,png,webp" and data["max_bytes"] == 5 * 1024 * 1024
    signed = {key: data[key] for key in ("allowed_formats", "folder", "timestamp")}
    assert data["signature"] == cloudinary.utils.api_sign_request(signed, SECRET)
    assert data["signature"] == expected_signature(signed)
    assert refused.status_code == 403


def cloudinary_answer(public_id: str, version: int = 1719307544, **extra) -> dict:
    """What Cloudinary answers a browser's direct upload (reference, section 10)."""
    signed = f"public_id={public_id}&version={version}{SECRET}".encode()
    return {
        "asset_id": "3515c6000a548515f1134043f9785c2f",
        "public_id": public_id,
        "version": version,
        "signature": hashlib.sha1(signed).hexdigest(),  # noqa: S324
        "width": 1920,
        "height": 1441,
        "format": "jpg",
        "resource_type": "image",
        "created_at": "2024-06-25T09:25:44Z",
        "tags": [],
        "bytes": 896838,
        "type": "upload",
        "secure_url": f"https://res.cloudinary.com/{CLOUD}/image/upload/v{version}/{public_id}.jpg",
        "api_key": "614335564976464",
    } | extra


def test_a_direct_upload_is_recorded_with_cloudinarys_signature_only(
    app, client, monkeypatch, customer_headers, auth_headers
):
    answer = cloudinary_answer("qg/returns/k3x9q1")
    cloudinary.config(api_secret=SECRET)  # the official SDK checks the same signature
    assert cloudinary.utils.verify_api_response_signature(
        answer["public_id"], answer["version"], answer["signature"]
    )
    forged = answer | {"signature": "0" * 40}
    elsewhere = cloudinary_answer("qg/products/k3x9q1")  # signed, but not a return's folder
    with fake_cloudinary(app, monkeypatch) as received:
        refused = [
            client.post("/api/uploads/direct", json=body, headers=customer_headers)
            for body in ({**forged, "kind": "RETURN"}, {**elsewhere, "kind": "RETURN"})
        ]
        assert db.session.scalar(select(func.count()).select_from(Upload)) == 0

        first = client.post(
            "/api/uploads/direct", json={**answer, "kind": "RETURN"}, headers=customer_headers
        )
        again = client.post(
            "/api/uploads/direct", json={**answer, "kind": "RETURN"}, headers=customer_headers
        )
        someone_else = client.post(
            "/api/uploads/direct",
            json={**answer, "kind": "RETURN"},
            headers=auth_headers(UserFactory()),
        )
        huge = cloudinary_answer("qg/returns/huge01", bytes=5 * 1024 * 1024 + 1)
        too_large = client.post(
            "/api/uploads/direct", json={**huge, "kind": "RETURN"}, headers=customer_headers
        )

    assert [r.status_code for r in refused] == [403, 403]
    assert refused[0].json["error"]["code"] == "INVALID_UPLOAD_SIGNATURE"
    assert first.status_code == 201, first.json
    data = first.json["data"]
    assert data["public_id"] == "qg/returns/k3x9q1" and data["format"] == "jpeg"
    assert data["url"] == (
        f"https://res.cloudinary.com/{CLOUD}/image/upload/v1719307544/qg/returns/k3x9q1.jpg"
    )
    assert (data["bytes"], data["width"], data["height"]) == (896838, 1920, 1441)
    assert again.status_code == 201 and again.json["data"] == data
    assert someone_else.status_code == 409
    assert someone_else.json["error"]["code"] == "UPLOAD_ALREADY_RECORDED"
    assert too_large.status_code == 413
    assert [call["form"]["public_id"] for call in received] == ["qg/returns/huge01"]  # destroyed
    assert received[0]["path"].endswith("/image/destroy")
    assert db.session.scalar(select(func.count()).select_from(Upload)) == 1


def test_direct_uploads_need_cloudinary_and_a_valid_answer(client, customer_headers):
    answer = {**cloudinary_answer("qg/returns/k3x9q1"), "kind": "RETURN"}
    local = client.post("/api/uploads/direct", json=answer, headers=customer_headers)
    assert local.status_code == 503 and local.json["error"]["code"] == "PROVIDER_NOT_CONFIGURED"
    for bad in ({"format": "gif"}, {"version": "soon"}, {"bytes": 0}, {"kind": "AVATAR"}):
        response = client.post("/api/uploads/direct", json=answer | bad, headers=customer_headers)
        assert response.status_code == 400, bad
    assert client.post("/api/uploads/direct", json=answer).status_code == 401
