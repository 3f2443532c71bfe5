"""Measure POST /api/auth/login latency (p50/p95) at a bcrypt work factor, on one core.

    .venv/bin/python scripts/bench_login.py                 # BCRYPT_ROUNDS from config (12)
    .venv/bin/python scripts/bench_login.py --rounds 10 11 12 13 -n 30

Each run builds the app against a throw-away SQLite database, creates one user with a
password hashed at that cost, and signs in ``-n`` times through the test client (the
whole request: routing, validation, bcrypt, session row, tokens, commit). The process
is pinned to one CPU where the OS allows it. Pick the cost whose p50 is 100-300 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.auth import accounts  # noqa: E402
from app.extensions import db  # noqa: E402

PASSWORD = "BenchMark2025"


def bench(rounds: int | None, count: int) -> tuple[int, float, float]:
    folder = tempfile.mkdtemp(prefix="qg-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.db"
    os.environ["RATELIMIT_ENABLED"] = "false"
    os.environ["SCHEDULER_ENABLED"] = "false"
    os.environ["LOG_LEVEL"] = "WARNING"
    if rounds is not None:
        os.environ["BCRYPT_ROUNDS"] = str(rounds)
    app = create_app("development")
    with app.app_context():
        db.create_all()
        accounts.create_user(
            email="bench@example.co.ke",
            password=PASSWORD,
            first_name="Bench",
            last_name="Mark",
            verified=True,
        )
        db.session.commit()
    client = app.test_client()
    body = {"email": "bench@example.co.ke", "password": PASSWORD}
    client.post("/api/auth/login", json=body)  # warm up (dummy hash, imports)
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.post("/api/auth/login", json=body)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_json()
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return app.config["BCRYPT_ROUNDS"], statistics.median(timings), p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, nargs="*", help="bcrypt costs to try")
    parser.add_argument("-n", type=int, default=20, help="logins per cost (default 20)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"{'cost':>4}  {'p50 ms':>8}  {'p95 ms':>8}  (n={args.n}, one core)")
    for rounds in args.rounds or [None]:
        cost, p50, p95 = bench(rounds, args.n)
        verdict = "in target" if 100 <= p50 <= 300 else "outside 100-300 ms"
        print(f"{cost:>4}  {p50:8.1f}  {p95:8.1f}  {verdict}")


if __name__ == "__main__":
    main()
