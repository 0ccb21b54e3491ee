"""Who sees which topics: residents their community, staff their scope."""

from __future__ import annotations

from typing import Any

from grassroots.accounts.models import Role
from grassroots.accounts.scopes import can, scope_for
from grassroots.core.scope import Scope
from grassroots.places.models import Area, AreaLevel

READ = "engage.view"  # staff who may read deliberation, notices, the guide and service centres
RUN = "engage.manage"  # staff who run them: community workers and party secretaries
PROPOSE = "engage.propose"  # workers who may put a topic forward themselves
H5 = "cases.h5"  # residents' phone pages


def community_of(area: Area | None) -> Area | None:
    """The community an area lies in (itself when it is one); None above community level."""
    if area is None:
        return None
    if area.level == AreaLevel.COMMUNITY:
        return area
    if area.level != AreaLevel.GRID:
        return None
    return Area.objects.filter(path__in=area.ancestor_paths(), level=AreaLevel.COMMUNITY).first()


def resident_community(user: Any) -> Area | None:
    if not can(user, H5) or user.role == Role.ADMIN:
        return None
    return community_of(user.area) if user.area_id else None


def is_staff(user: Any) -> bool:
    return can(user, READ) or can(user, RUN)


def topic_scope(user: Any) -> Scope:
    """Staff read their scope; residents their own community; anyone else nothing."""
    if is_staff(user):
        return scope_for(user, READ if can(user, READ) else RUN)
    community = resident_community(user)
    if community is None:
        return Scope.nothing()
    return Scope(area_path=community.path)


def run_scope(user: Any) -> Scope:
    return scope_for(user, RUN)
