"""Measure an image upload (p50/p95, local storage) and the email outbox's throughput.

    /work/main/.venv/bin/python scripts/bench_uploads.py            # 30 uploads, 500 emails
    /work/main/.venv/bin/python scripts/bench_uploads.py -n 50 --emails 1000

Uploads: a ~3 MB phone-like JPEG (2185x2185, GPS EXIF) posted ``-n`` times to
``POST /api/uploads/return`` through the test client against a throw-away SQLite
database and UPLOAD_DIR: the whole request (multipart parsing, bounded read, Pillow
identify + decode + EXIF rotation + re-encode + thumbnail, two file writes, the row,
commit). Outbox: ``--emails`` QUEUED rows sent by the ``send_outbox_emails`` job over
SMTP to a local fake server (one SMTP connection per email, as Flask-Mail does).
"""

from __future__ import annotations

import argparse
import io
import os
import socketserver
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from app import create_app  # noqa: E402
from app.auth import accounts  # noqa: E402
from app.auth.tokens import start_session  # noqa: E402
from app.db import utcnow  # noqa: E402
from app.extensions import db  # noqa: E402
from app.notifications.jobs import send_outbox_emails  # noqa: E402
from app.notifications.models import OutboxEmail, OutboxStatus  # noqa: E402
from tests.factories.uploads import photo_bytes  # noqa: E402


class FakeSMTP(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept a message: 250 to everything, 354 for DATA."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 fake.smtp ESMTP")
        while line := self.rfile.readline():
            command = line.strip().upper()
            if command.startswith((b"EHLO", b"HELO")):
                self.reply("250 fake.smtp")
            elif command == b"DATA":
                self.reply("354 go ahead")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                self.reply("250 queued")
                self.server.delivered += 1
            elif command == b"QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


class SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    delivered = 0


def build_app(smtp_port: int, database_url: str | None):
    folder = tempfile.mkdtemp(prefix="qg-bench-")
    os.environ.update(
        DATABASE_URL=database_url or f"sqlite:///{folder}/bench.db",
        UPLOAD_DIR=f"{folder}/uploads",
        RATELIMIT_ENABLED="false",
        SCHEDULER_ENABLED="false",
        LOG_LEVEL="WARNING",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_port),
        MAIL_USE_TLS="false",
        MAIL_USERNAME="mailer@example.co.ke",
    )
    app = create_app("development")
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def bench_uploads(app, count: int) -> None:
    photo = photo_bytes()
    with app.app_context():
        user = accounts.create_user(
            email="bench@example.co.ke",
            password="BenchMark2025",
            first_name="Bench",
            last_name="Mark",
            verified=True,
        )
        _, tokens = start_session(user, user_agent="bench", ip_address="127.0.0.1")
        db.session.commit()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    client = app.test_client()

    def post():
        return client.post(
            "/api/uploads/return",
            data={"file": (io.BytesIO(photo), "IMG_2031.jpg")},
            headers=headers,
            content_type="multipart/form-data",
        )

    post()  # warm up
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        response = post()
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 201, response.get_json()
    stored = response.get_json()["data"]["bytes"]
    print(
        f"upload {len(photo) / 1e6:.2f} MB JPEG -> {stored / 1e6:.2f} MB stored, n={count}: "
        f"p50 {statistics.median(timings):.0f} ms, p95 {percentile(timings, 0.95):.0f} ms"
    )


def bench_outbox(app, server: SMTPServer, count: int) -> None:
    with app.app_context():
        now = utcnow()
        db.session.execute(
            insert(OutboxEmail.__table__),
            [
                {
                    "to_address": f"user{n}@example.co.ke",
                    "subject": "Your order has shipped",
                    "template": "order_status",
                    "body_text": "Your order QG-1 is now shipped. " * 20,
                    "body_html": "<p>Your order QG-1 is now shipped.</p>" * 20,
                    "status": OutboxStatus.QUEUED,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for n in range(count)
            ],
        )
        db.session.commit()
        started = time.perf_counter()
        sent = 0
        while sent < count:
            result = send_outbox_emails()
            if not result["sent"]:
                break
            sent += result["sent"]
        elapsed = time.perf_counter() - started
    assert server.delivered == count, (server.delivered, count)
    print(
        f"outbox: {count} emails through send_outbox_emails in {elapsed:.2f} s "
        f"= {count / elapsed:.0f} emails/s (fake SMTP on loopback)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30, help="uploads to time")
    parser.add_argument("--emails", type=int, default=500, help="emails to send")
    parser.add_argument(
        "--database-url", help="a throw-away database (emptied!); default: a new SQLite file"
    )
    args = parser.parse_args()
    server = SMTPServer(("127.0.0.1", 0), FakeSMTP)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app = build_app(server.server_address[1], args.database_url)
    bench_uploads(app, args.n)
    bench_outbox(app, server, args.emails)
    server.shutdown()


if __name__ == "__main__":
    main()
