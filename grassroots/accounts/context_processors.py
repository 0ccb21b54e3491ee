"""Navigation and the top bar's user details, by role.

Each navigation entry shows only for roles holding its capability, so a page never
offers a link its user would be refused.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.accounts.scopes import can

# (label, url name, capability or None for everyone signed in)
NAV: list[tuple[str, str, str | None]] = [
    ("首页", "home", None),
    ("地点", "places:browser", "places.browse"),
    ("网格地图", "places:map", "places.browse"),
]


def scope_label(user: Any) -> str:
    """The user's scope as words: an area ("城北社区"), a department, or everything.

    Reads ``user.area``/``user.department``, which ``scope_for`` loads anyway, so the
    related object is cached on the request's user and costs at most one query.
    """
    if user.role == Role.ADMIN:
        return "全部区域"
    if user.role == Role.DEPARTMENT_OFFICER:
        return user.department.name if user.department_id else "未分配部门"
    if user.area_id:
        return str(user.area.name)
    return "未分配区域"


def _is_active(request_path: str, url: str) -> bool:
    # "/" is active only on itself; other sections stay highlighted on their sub-pages.
    return request_path == url if url == "/" else request_path.startswith(url)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    items = []
    for label, name, capability in NAV:
        if capability is not None and not can(user, capability):
            continue
        url = reverse(name)
        items.append({"label": label, "url": url, "active": _is_active(request.path, url)})
    return {
        "nav": items,
        "role_label": user.get_role_display(),
        "user_display_name": user.display_name or user.get_username(),
        "scope_label": scope_label(user),
    }
