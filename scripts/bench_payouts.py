"""Payout run benchmark: 10,000 suppliers with available balances, one run of
``run_supplier_payouts`` against a loopback fake Daraja (a real HTTP server speaking the
B2C wire format).

    .venv/bin/python scripts/bench_payouts.py [--suppliers 10000] [--batch 500]
        [--database-url postgresql://postgres@127.0.0.1:5432/qg_payouts]

The database's tables are dropped and created from the models (use a scratch
database). Reports the run's time, its SQL statements (per 100 suppliers and per batch)
and checks: one payout and one B2C request per supplier, every payout PROCESSING, the
books balanced. Target: under 60 s on a 2-core machine; statements per batch constant.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import secrets
import socket
import sys
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class FakeDaraja(BaseHTTPRequestHandler):
    """OAuth and B2C in Daraja's format; a reused OriginatorConversationID is refused."""

    seen: set[str] = set()
    lock = threading.Lock()
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()  # answers go out at once, not held for an ACK (Nagle)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args) -> None:
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/count"):  # for the checks: B2C requests accepted
            self._answer(200, {"accepted": len(self.seen)})
            return
        self._answer(200, {"access_token": "bench-token", "expires_in": "3599"})

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        originator = body["OriginatorConversationID"]
        with self.lock:
            duplicate = originator in self.seen
            self.seen.add(originator)
        if duplicate:
            self._answer(
                500,
                {
                    "requestId": secrets.token_hex(8),
                    "errorCode": "500.002.1001",
                    "errorMessage": "Duplicate OriginatorConversationID.",
                },
            )
            return
        self._answer(
            200,
            {
                "ConversationID": f"AG_20261202_{secrets.token_hex(10)}",
                "OriginatorConversationID": originator,
                "ResponseCode": "0",
                "ResponseDescription": "Accept the service request successfully.",
            },
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suppliers", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/qg_payouts")
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeDaraja)
    server.daemon_threads = True
    daraja = multiprocessing.Process(target=server.serve_forever, daemon=True)
    daraja.start()  # its own process: its own GIL, like a remote Daraja
    os.environ.update(
        DATABASE_URL=args.database_url,
        SCHEDULER_ENABLED="false",
        PAYMENTS_SIMULATOR="false",
        MPESA_BASE_URL=f"http://127.0.0.1:{server.server_port}",
        MPESA_CONSUMER_KEY="bench",
        MPESA_CONSUMER_SECRET="bench",
        MPESA_PASSKEY="bench",
        MPESA_INITIATOR_NAME="bench",
        MPESA_SECURITY_CREDENTIAL="bench==",
        MPESA_CALLBACK_TOKEN="bench-token",
        PAYSTACK_SECRET_KEY="sk_test_bench",
        LOG_LEVEL="WARNING",
    )
    from sqlalchemy import event, func, insert, select

    from app import create_app
    from app.auth.models import SupplierProfile, User, UserRole
    from app.db import utcnow
    from app.extensions import db
    from app.ledger.cli import check_books
    from app.ledger.models import AccountCode, Party, PartyRole
    from app.ledger.operations import Line, party_line, post
    from app.payouts.jobs import run_supplier_payouts
    from app.payouts.models import Payout, PayoutStatus
    from app.supplier.terms import current_terms_version

    app = create_app("development")
    with app.app_context():
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        users = [
            {
                "email": f"bench-supplier-{n}@example.co.ke",
                "password_hash": "x",
                "first_name": "Bench",
                "last_name": f"Supplier {n}",
                "phone": f"2547{n:08d}",
                "role": UserRole.SUPPLIER,
                "is_active": True,
            }
            for n in range(args.suppliers)
        ]
        user_ids = db.session.scalars(insert(User).returning(User.id), users).all()
        version, now = current_terms_version(), utcnow()
        profiles = [
            {
                "user_id": user_id,
                "business_name": f"Bench Supplier {n}",
                "mpesa_payout_number": f"2547{n % 10_000_000:07d}1",
                "is_approved": True,
                "terms_accepted_at": now,
                "terms_version": version,
            }
            for n, user_id in enumerate(user_ids)
        ]
        db.session.execute(insert(SupplierProfile), profiles)
        supplier_ids = db.session.scalars(select(SupplierProfile.id)).all()
        lines = [
            party_line(Party.SUPPLIER, sid, PartyRole.AVAILABLE, -Decimal(f"{150 + sid % 900}.45"))
            for sid in supplier_ids
        ]
        total = -sum((line.amount for line in lines), Decimal("0"))
        post("bench:earned", "bench", [Line(AccountCode.MPESA_CLEARING, total), *lines])
        db.session.commit()
        print(f"seeded {len(supplier_ids)} suppliers in {time.perf_counter() - started:.1f} s")

        statements = []

        def count(*_args, **_kwargs) -> None:
            statements.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        started = time.perf_counter()
        summary = run_payouts_with(run_supplier_payouts, args.batch)
        elapsed = time.perf_counter() - started
        event.remove(db.engine, "before_cursor_execute", count)

        count = len(statements)
        payouts = db.session.scalar(select(func.count(Payout.id)))
        processing = db.session.scalar(
            select(func.count(Payout.id)).where(Payout.status == PayoutStatus.PROCESSING)
        )
        report = check_books()
        base = f"http://127.0.0.1:{server.server_port}"
        accepted = requests.get(f"{base}/count", timeout=5).json()["accepted"]
        print(
            f"run: {summary.payouts} payouts in {summary.batches} batches of {args.batch}, "
            f"{elapsed:.1f} s ({summary.payouts / elapsed:.0f} suppliers/s), "
            f"{accepted} B2C requests"
        )
        print(
            f"SQL statements: {count} in all, {100 * count / max(summary.payouts, 1):.2f} "
            f"per 100 suppliers, {count / max(summary.batches, 1):.1f} per batch"
        )
        print(f"books: {report.summary()} -> {'OK' if report.ok else report.discrepancy}")
        ok = payouts == processing == len(supplier_ids) == accepted and report.ok
        print("checks:", "OK" if ok else "FAILED")
        db.session.remove()
        db.drop_all()
    daraja.terminate()
    raise SystemExit(0 if ok else 1)


def run_payouts_with(job, batch: int):
    """The job as scheduled, with this batch size."""
    from app.payouts import runs

    original = runs.run_payouts.__kwdefaults__["batch_size"]
    runs.run_payouts.__kwdefaults__["batch_size"] = batch
    try:
        return job("bench")
    finally:
        runs.run_payouts.__kwdefaults__["batch_size"] = original


if __name__ == "__main__":
    main()
