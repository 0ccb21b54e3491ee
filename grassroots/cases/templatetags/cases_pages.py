"""Case panels for pages of lower apps: the home page's 待办 (accounts may not import cases)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from grassroots.cases.selectors.todo import todo_for

register = template.Library()


@register.inclusion_tag("cases/_todo_panel.html", takes_context=True)
def cases_todo_panel(context: template.Context) -> dict[str, Any]:
    """``{% cases_todo_panel %}``: the signed-in user's waiting case work, each linking to its list."""
    request = context.get("request")
    items = todo_for(getattr(request, "user", None))
    return {"items": [{"item": i, "url": reverse(i.url_name) + i.query} for i in items]}
