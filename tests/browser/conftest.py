"""A real server in a subprocess for browser tests, against its own temporary SQLite database.

Each test module sets ``SEED`` (Python run once after migrate) and gets its own server: no
pytest-django database is used, so nothing is flushed (the audit triggers refuse that). Debian's
/usr/bin/chromium drives it; Playwright's own browser download is never used (the network is closed).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
# Without these Chromium floods the closed network with refused connections (shared FINDINGS).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = "Debian chromium is not installed at /usr/bin/chromium (run scripts/system_deps.sh)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(args[1:3])} failed:\n{result.stdout}\n{result.stderr}")


def _wait_healthy(url: str, server: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310 - local URL
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail("the server did not answer /healthz in time")


@pytest.fixture(scope="module")
def live_server_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_chromium()
    var = tmp_path_factory.mktemp("browser-var")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRASSROOTS_") and k != "DATABASE_URL"}
    env.update(
        GRASSROOTS_VAR_DIR=str(var),
        DATABASE_URL=f"sqlite:///{var}/db.sqlite3",
        GRASSROOTS_ENV="development",
        GRASSROOTS_DEBUG="1",  # runserver serves static files only in debug mode
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
    )
    manage = [sys.executable, "manage.py"]
    _run([*manage, "migrate", "--noinput", "-v0"], env)
    _run([*manage, "init_keys"], env)
    _run([sys.executable, "-c", request.module.SEED], env)
    port = _free_port()
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def browser(live_server_url: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def shot(page, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page, animations="disabled")


def log_in(page, base: str, username: str, screenshot: str | None = None) -> None:
    page.goto(base + "/accounts/login/")
    assert page.locator("h1").inner_text() == "登录"
    if screenshot:
        shot(page, screenshot)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(base + "/")
