"""Navigation by role: each entry shows only for roles holding its capability."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from grassroots.accounts.scopes import can

NAV = [
    ("首页", "home", None),
    ("地点", "places:browser", "places.browse"),
    ("网格地图", "places:map", "places.browse"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    items = [
        {"label": label, "url": reverse(name), "active": request.path == reverse(name)}
        for label, name, capability in NAV
        if capability is None or can(user, capability)
    ]
    return {"nav": items, "role_label": user.get_role_display()}
