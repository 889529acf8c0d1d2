"""Language switching, CSP, healthz, templates that a strict CSP can serve."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tjp.roles import Role

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_switching_to_spanish_and_back(client, personas):
    client.force_login(personas[Role.JUDGE])
    assert "Your programs" in client.get(reverse("home")).content.decode()
    response = client.post(reverse("set_language"), {"language": "es", "next": "/"})
    assert response.status_code == 302
    page = client.get(reverse("home")).content.decode()
    assert "Sus programas" in page and '<html lang="es">' in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Your programs" in client.get(reverse("home")).content.decode()


def test_login_page_in_spanish_for_anonymous(client, db):
    client.post(reverse("set_language"), {"language": "es", "next": "/accounts/login/"})
    assert "Iniciar sesión" in client.get(reverse("login")).content.decode()


def test_strict_csp_header(client, personas):
    client.force_login(personas[Role.JUDGE])
    csp = client.get(reverse("home"))["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "style-src 'self'" in csp and "unsafe-inline" not in csp


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=str)
def test_templates_have_no_inline_script_or_style(template):
    text = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert "<style" not in text, "inline <style>"
    assert not re.search(r"\sstyle=", text), "style attribute"
    assert not re.search(r"\son[a-z]+=", text), "inline event handler"


def test_healthz_reports_database_and_broker(client, db, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == ("ok" if settings.CELERY_BROKER_URL else "eager")


def test_healthz_reports_an_unreachable_broker(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["broker"] == "error"


def test_api_schema_and_docs_for_signed_in_users(client, personas):
    client.force_login(personas[Role.CLINICIAN])
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/programs/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
