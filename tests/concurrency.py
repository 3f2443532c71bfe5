"""Requests at once, as concurrent clients send them (PostgreSQL tests)."""

from __future__ import annotations

import threading

from app.extensions import db


def run_together(app, actions):
    """Run every ``action(client)`` at once, each in its own thread, app context and
    test client (so its own database connection); their results, in order."""
    start = threading.Barrier(len(actions))
    results = {}

    def worker(index, action):
        with app.app_context(), app.test_client() as client:
            start.wait()
            results[index] = action(client)
            db.session.remove()

    threads = [threading.Thread(target=worker, args=item) for item in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == len(actions), "a request did not finish"
    return [results[index] for index in range(len(actions))]
