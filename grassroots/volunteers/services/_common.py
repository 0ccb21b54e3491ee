"""What every write of the volunteers app starts with: the capability, then the scope."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from grassroots.accounts.scopes import can, scope_for
from grassroots.audit.services import Actor, actor_of
from grassroots.core import clock
from grassroots.core.errors import Forbidden, NotFound
from grassroots.core.scope import Scope

MANAGE = "volunteers.manage"


def manage_scope(actor: Any) -> Scope:
    """The actor's scope for managing the forces; Forbidden when the role may not manage them."""
    if not can(actor, MANAGE):
        raise Forbidden("您的角色无权管理志愿力量。")
    return scope_for(actor, MANAGE)


def require_path(scope: Scope, path: str) -> None:
    if not scope.covers_path(path):
        raise NotFound()


def audit_actor(actor: Any) -> Actor:
    return actor_of(actor)


def today() -> date:
    return timezone.localdate(clock.now())
