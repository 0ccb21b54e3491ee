"""Security headers, and Django's deployment check with the production settings.

The production settings are read at import time from the environment, so they are tested in a
subprocess started with the minimum production environment (docs/operations.md); the
headers every response carries are tested in process.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.core import crypto
from tests.factories import Tree

ROOT = Path(__file__).resolve().parents[2]
HOST = "grassroots.example.cn"


def production_env(tmp_path: Path) -> dict[str, str]:
    """The minimum production environment: a secret key, the host name, a keys file, a database."""
    var = tmp_path / "var"
    var.mkdir()
    crypto.write_keyring(var / "keys.json", crypto.new_keyring())  # what `manage.py init_keys` writes
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRASSROOTS_") and k != "DATABASE_URL"}
    env.update(
        GRASSROOTS_ENV="production",
        GRASSROOTS_SECRET_KEY=secrets.token_urlsafe(64),
        GRASSROOTS_ALLOWED_HOSTS=HOST,
        GRASSROOTS_VAR_DIR=str(var),
        DATABASE_URL=f"sqlite:///{var / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
    )
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_deploy_check_passes_with_production_settings(tmp_path: Path) -> None:
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


PROBE = """
import json
import sys
import django
django.setup()
from django.conf import settings
from django.test import Client, override_settings
# Production serves hashed static names from collectstatic's manifest; this run has none.
plain = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
with override_settings(STORAGES=plain):
    response = Client().get("/accounts/login/", secure=True, HTTP_HOST=sys.argv[1])
    plain_http = Client().get("/accounts/login/", HTTP_HOST=sys.argv[1])
cookies = {name: dict(morsel.items()) for name, morsel in response.cookies.items()}
print(json.dumps({"status": response.status_code, "headers": dict(response.headers), "cookies": cookies,
                  "http": [plain_http.status_code, plain_http.get("Location")],
                  "session_cookie": settings.SESSION_COOKIE_NAME, "session_secure": settings.SESSION_COOKIE_SECURE}))
"""


def test_production_response_headers_and_cookies(tmp_path: Path) -> None:
    result = run([sys.executable, "-c", PROBE, HOST], production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    headers = probe["headers"]
    assert probe["status"] == 200
    assert probe["http"] == [301, f"https://{HOST}/accounts/login/"]  # plain HTTP is redirected
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=(self)" in headers["Permissions-Policy"] and "microphone=()" in headers["Permissions-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    # __Host- cookies: Secure, Path=/, no Domain (the browser drops them otherwise).
    assert probe["session_cookie"] == "__Host-sessionid" and probe["session_secure"] is True
    csrf = probe["cookies"]["__Host-csrftoken"]
    assert csrf["secure"] is True and csrf["httponly"] is True and csrf["path"] == "/" and not csrf["domain"]


def csp(response: HttpResponseBase) -> dict[str, list[str]]:
    directives = [part.strip().split() for part in response["Content-Security-Policy"].split(";") if part.strip()]
    return {d[0]: d[1:] for d in directives}


@pytest.mark.django_db
def test_every_page_gets_a_strict_policy_with_a_fresh_nonce(tree: Tree) -> None:
    client = Client()
    client.force_login(tree.users[Role.ADMIN])
    url = reverse("cases:duty")  # a page with an inline <style> block, which needs the nonce
    nonces = []
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200
        policy = csp(response)
        assert policy["default-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
        assert policy["img-src"] == ["'self'", "data:", "blob:"] and policy["connect-src"] == ["'self'"]
        for directive in ("script-src", "style-src"):
            assert "'unsafe-inline'" not in policy[directive] and "'unsafe-eval'" not in policy[directive]
        nonce = re.search(r"'nonce-([^']+)'", " ".join(policy["script-src"]))
        assert nonce is not None and f"'nonce-{nonce.group(1)}'" in policy["style-src"]
        body = response.content.decode()
        assert f'<style nonce="{nonce.group(1)}">' in body
        assert "<style>" not in body and "<script>" not in body  # every inline block carries the nonce
        nonces.append(nonce.group(1))
    assert nonces[0] != nonces[1]


@pytest.mark.django_db
def test_login_page_headers(client: Client) -> None:
    response = client.get(reverse("accounts:login"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Permissions-Policy"].startswith("camera=(self), geolocation=(self)")
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_templates_have_no_inline_handlers_or_javascript_urls() -> None:
    """Inline handlers and javascript: URLs cannot carry a nonce: the policy would block them."""
    dirs = [ROOT / "grassroots" / "templates", *sorted((ROOT / "grassroots").glob("*/templates"))]
    offenders = []
    for directory in dirs:
        for path in directory.rglob("*.html"):
            text = path.read_text()
            for match in re.finditer(r"\son[a-z]+\s*=|javascript:|<script(?![^>]*\bsrc=)(?![^>]*nonce=)[^>]*>", text):
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0).strip()}")
            for match in re.finditer(r"<style(?![^>]*nonce=)[^>]*>", text):
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert not offenders, "\n".join(offenders)
