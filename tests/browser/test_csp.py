"""The Content-Security-Policy in a real browser: no page we serve trips it, and charts and maps still draw.

One server, one browser; each role logs in once and visits its representative pages: the login
page, home, a dashboard (ECharts), the big screen (Leaflet + ECharts), a case page and the
resident's report page (Leaflet). Violations are caught both by a ``securitypolicyviolation``
listener installed before any page script runs and by Chromium's console messages.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser

SEED = """
import django
django.setup()
from tests.cases.test_cases_services import make_env, submit
from tests.factories import add_personas, build_tree
tree = build_tree()
add_personas(tree)
submit(make_env(tree))  # one open case: the dashboards and the big screen have something to draw
"""

LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
});
"""


class Watch:
    """A logged-in (or anonymous) page that remembers every policy complaint it saw."""

    def __init__(self, browser: Any, base: str, username: str | None) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.add_init_script(LISTEN)
        self.page = self.context.new_page()
        self.base = base
        self.console: list[str] = []
        self.page.on("console", self._console)
        if username:
            log_in(self.page, base, username)

    def _console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Permissions-Policy" in text or "Permissions Policy" in text:
            self.console.append(f"{self.page.url}: {text}")

    def visit(self, path: str) -> None:
        response = self.page.goto(self.base + path, wait_until="load")
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]

    def check(self) -> None:
        violations = self.page.evaluate("window.__cspViolations")
        assert not violations, f"{self.page.url}: {violations}"
        assert not self.console, self.console

    def close(self) -> None:
        self.context.close()


def test_pages_render_under_the_policy(live_server_url: str, browser: Any) -> None:
    base = live_server_url

    anonymous = Watch(browser, base, None)
    anonymous.visit("/accounts/login/")
    anonymous.check()
    anonymous.close()

    leader = Watch(browser, base, "in_district_leader")
    page = leader.page
    leader.check()  # home, where log_in landed
    leader.visit("/insights/dashboard/")
    page.locator("#chart-trend canvas").wait_for()
    assert page.locator("#chart-parts canvas").count() == 1 and page.locator("#chart-categories canvas").count() == 1
    # ECharts writes its tooltip as HTML with style attributes (allowed by style-src-attr only).
    page.locator("#chart-trend canvas").hover(position={"x": 300, "y": 100})
    page.select_option("select[name=period]", index=1)  # data-autosubmit, formerly onchange=
    page.wait_for_url(re.compile(r"period="))
    page.locator("#chart-trend canvas").wait_for()
    leader.check()
    leader.visit("/insights/bigscreen/")
    page.locator("#bs-map .leaflet-overlay-pane canvas").wait_for()  # the grids (preferCanvas)
    page.locator("#bs-map .bs-cluster").first.wait_for()  # the open case, an HTML marker with a style attribute
    page.locator("#bs-trend canvas").wait_for()
    shot(page, "csp-bigscreen", full_page=False)
    leader.check()
    leader.visit("/cases/all/")
    page.locator("main a[href^='/cases/']").filter(has_text=re.compile(r"\d")).first.click()
    page.wait_for_url(re.compile(r"/cases/\d+/"))
    assert page.locator("h1").count() == 1
    leader.check()
    leader.close()

    resident = Watch(browser, base, "in_resident")
    resident.visit("/cases/h5/report/")
    resident.page.locator("[data-pick-map] .leaflet-overlay-pane path").first.wait_for()  # the grids (SVG)
    resident.check()
    resident.close()
