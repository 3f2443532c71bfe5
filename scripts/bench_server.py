"""gunicorn for the benchmarks: on a free localhost port, ready only when every worker is.

Each worker loads the app after the fork (~1.5 s of CPU): the first worker to answer the
health check does not mean the others are up, and a measurement started then would share
both cores with their start-up and queue for their connections. A hook in each worker
marks it ready in a temporary folder; ``gunicorn`` returns once all of them have.
The server runs with the project's gunicorn.conf.py (the hook is added to its own
``post_worker_init``); the flags given here override its settings.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent

WORKER_READY_HOOK = """
import os
from runpy import run_path

globals().update(
    (name, value) for name, value in run_path({config!r}).items() if not name.startswith("__")
)
_serve = post_worker_init


def post_worker_init(worker):
    _serve(worker)
    open(os.path.join({folder!r}, str(worker.pid)), "w").close()
"""


def recreate_database(url: str) -> None:
    """Drop (closing its connections) and create the benchmark's own PostgreSQL database."""
    from app.config import normalize_database_url

    target = make_url(normalize_database_url(url))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(
    env: dict[str, str],
    *,
    workers: int,
    threads: int = 1,
    options: Sequence[str] = (),
    port: int | None = None,
) -> Iterator[int]:
    """Serve ``run:app`` with ``env``; yields the port once every worker is ready, and
    stops gunicorn and its workers on the way out."""
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="qg-bench-gunicorn-") as folder:
        config = Path(folder, "gunicorn_conf.py")
        config.write_text(
            WORKER_READY_HOOK.format(config=str(ROOT / "gunicorn.conf.py"), folder=folder)
        )
        command = [
            str(ROOT / ".venv/bin/gunicorn"),
            "run:app",
            f"--config={config}",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            f"--threads={threads}",
            "--timeout=60",
            "--log-level=warning",
            *options,
        ]
        # Its own process group, so that stopping it reaches the workers too.
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True
        )
        try:
            _wait_until_ready(server, port, Path(folder), workers)
            yield port
        finally:
            _stop(server)


def _wait_until_ready(server: subprocess.Popen, port: int, folder: Path, workers: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        ready = sum(1 for path in folder.iterdir() if path.name.isdigit())
        try:
            healthy = requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2).ok
        except requests.RequestException:
            healthy = False
        if healthy and ready >= workers:
            return
        time.sleep(0.2)
    raise SystemExit("gunicorn's workers did not all start within 60 s")


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM to the group, SIGKILL after 20 s."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
