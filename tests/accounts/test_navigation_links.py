"""Every page the navigation offers a role opens for that role: no link leads to a refusal or an error."""

from __future__ import annotations

from typing import Any

import pytest

from grassroots.accounts.context_processors import FLAT_LIMIT, SECTIONS
from grassroots.accounts.models import Role
from tests.factories import Tree

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", list(Role))
def test_every_offered_link_opens(client: Any, tree: Tree, role: str) -> None:
    client.force_login(tree.users[role])
    home = client.get("/")
    nav = home.context["nav"]
    for item in nav:
        response = client.get(item["url"], follow=True)
        assert response.status_code == 200, (item["label"], response.status_code)
    # Many pages are grouped by section; few stay on one bar.
    assert bool(home.context["nav_sections"]) == (len(nav) - 1 > FLAT_LIMIT)


def test_each_url_name_appears_once() -> None:
    names = [name for _, entries in SECTIONS for _, name, _, _ in entries]
    assert len(names) == len(set(names))
