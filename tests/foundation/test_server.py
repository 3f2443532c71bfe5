"""gunicorn.conf.py, run.py and the scheduler: only a server process starts it."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from gunicorn.config import Config

import app as app_package
from app import create_app

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {
    "bind": ["0.0.0.0:5000"],
    "workers": 2,
    "threads": 4,
    "timeout": 60,
    "graceful_timeout": 30,
    "keepalive": 5,
    "limit_request_line": 4094,
    "limit_request_fields": 100,
    "limit_request_field_size": 8190,
}


def gunicorn_conf(monkeypatch, **environ) -> dict:
    for name in ("PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_conf_sets_every_setting_explicitly(monkeypatch):
    module = gunicorn_conf(monkeypatch)
    config = Config()  # gunicorn's own validation of each name and value
    for name in SETTINGS:
        config.set(name, module[name])
    assert {name: config.settings[name].get() for name in SETTINGS} == SETTINGS
    source = (ROOT / "gunicorn.conf.py").read_text()
    for name in SETTINGS:  # each with its comment on the line above
        line = next(n for n, text in enumerate(source.splitlines()) if text.startswith(name))
        assert source.splitlines()[line - 1].startswith("#"), name


def test_gunicorn_conf_binds_port_and_sizes_from_the_environment(monkeypatch):
    module = gunicorn_conf(monkeypatch, PORT="8123", WEB_CONCURRENCY="5", GUNICORN_THREADS="3")
    assert (module["bind"], module["workers"], module["threads"]) == ("0.0.0.0:8123", 5, 3)


def test_make_run_and_the_benchmarks_use_the_config_file():
    assert "gunicorn -c gunicorn.conf.py run:app" in (ROOT / "Makefile").read_text()
    assert "gunicorn.conf.py" in (ROOT / "scripts/bench_server.py").read_text()


@pytest.fixture
def scheduler_starts(monkeypatch):
    """Apps the scheduler was started for (recorded, not started); gc.freeze recorded."""
    started: list[Flask] = []
    monkeypatch.setattr(app_package, "start_scheduler", started.append)
    monkeypatch.setattr(gc, "freeze", lambda: started.append("gc.freeze"))
    monkeypatch.setenv("SCHEDULER_ENABLED", "true")
    return started


def test_importing_run_py_as_the_flask_cli_does_starts_no_scheduler(scheduler_starts):
    """``flask --app run.py db upgrade`` imports run.py: no job may run in that process."""
    module = runpy.run_path(str(ROOT / "run.py"), run_name="run")
    assert isinstance(module["app"], Flask)
    assert scheduler_starts == ["gc.freeze"]
    assert "qg_scheduler" not in module["app"].extensions


def test_python_run_py_serves_and_starts_the_scheduler(scheduler_starts, monkeypatch):
    served = []
    monkeypatch.setattr(Flask, "run", lambda self, **options: served.append(options["port"]))
    module = runpy.run_path(str(ROOT / "run.py"), run_name="__main__")
    assert scheduler_starts == ["gc.freeze", module["app"]]
    assert served == [module["app"].config["PORT"]]


def test_each_gunicorn_worker_starts_the_scheduler(scheduler_starts, monkeypatch):
    app = create_app("testing")
    gunicorn_conf(monkeypatch)["post_worker_init"](SimpleNamespace(wsgi=app, pid=1))
    assert scheduler_starts == [app]
