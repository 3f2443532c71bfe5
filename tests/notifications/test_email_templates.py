"""Every email template renders with sample data: none can break at send time."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import StrictUndefined

from app.notifications.email import email_context, render_email
from app.settings import setting
from tests.notifications.email_samples import SAMPLES

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates" / "email"
LAYOUTS = {"base"}


def template_names() -> list[str]:
    return sorted({path.stem for path in TEMPLATES.glob("*.*")} - LAYOUTS)


def test_every_template_has_a_text_and_an_html_version():
    for name in template_names():
        missing = [ext for ext in ("txt", "html") if not (TEMPLATES / f"{name}.{ext}").exists()]
        assert not missing, f"email/{name} lacks its .{' and .'.join(missing)} version"


def test_the_registry_has_no_sample_for_a_template_that_is_gone():
    assert set(SAMPLES) <= set(template_names())


@pytest.mark.parametrize("name", template_names())
def test_every_template_renders_with_its_sample(app, name):
    assert name in SAMPLES, (
        f"email/{name} has no sample context: add SAMPLES[{name!r}] to "
        "tests/notifications/email_samples.py"
    )
    strict = app.jinja_env.overlay(undefined=StrictUndefined, cache_size=0)
    with app.test_request_context():
        context = email_context(f"Subject of {name}", SAMPLES[name]())
        for ext in ("txt", "html"):
            rendered = strict.get_template(f"email/{name}.{ext}").render(**context)
            assert setting("store_name") in rendered  # the layout, with the store's details
            assert setting("contact_phone") in rendered
            assert "None" not in rendered and "Undefined" not in rendered
        email = render_email("a@example.co.ke", "Hello", name, **SAMPLES[name]())
        assert email.text.strip() and email.html.lstrip().startswith("<!doctype html>")


def test_the_layout_reads_the_store_settings(app, monkeypatch):
    monkeypatch.setitem(app.config, "STORE_NAME", "Gear Duka")
    monkeypatch.setitem(app.config, "STORE_PHONE", "+254 711 000 000")
    with app.test_request_context():
        email = render_email(
            "a@example.co.ke", "Hi", "password_changed", **SAMPLES["password_changed"]()
        )
    for body in (email.text, email.html):
        assert "Gear Duka" in body and "+254 711 000 000" in body
