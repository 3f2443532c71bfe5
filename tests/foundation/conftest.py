"""Fixtures of the foundation tests: the probe app and its client."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests.foundation.probe import calls, make_probe_app, release_waiting


@pytest.fixture(scope="session")
def probe_app():
    app = make_probe_app()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def probe_client(probe_app):
    calls["write"] = 0
    release_waiting.clear()
    return probe_app.test_client()
