"""Small template helpers shared by all apps."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``{{ counts|get_item:dwelling.pk }}``: a dict lookup by a variable key; None when absent."""
    if not mapping:
        return None
    return mapping.get(key)
