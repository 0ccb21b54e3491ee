"""Reads of the service guide and the admission lists.

Residents see the guide entries of their community and of every area above it; staff those in
their scope. An admission question is answered for one community from the lists of the areas
above it: a subdistrict's line overrides the district's line of the same kind and name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from grassroots.core.errors import NotFound
from grassroots.engage.models import AdmissionItem, AdmissionKind, ServiceGuide
from grassroots.engage.selectors.scopes import is_staff, resident_community, topic_scope
from grassroots.places.models import Area

SEARCH_FIELDS = ("name", "category", "materials", "code")


def _search(rows: QuerySet[ServiceGuide], q: str) -> QuerySet[ServiceGuide]:
    """Every word of ``q`` in the name, category, materials or code (simple icontains)."""
    for word in q.split():
        condition = Q()
        for name in SEARCH_FIELDS:
            condition |= Q(**{f"{name}__icontains": word})
        rows = rows.filter(condition)
    return rows


def resident_guides(user: Any, *, q: str = "", category: str = "") -> QuerySet[ServiceGuide]:
    community = resident_community(user)
    if community is None:
        return ServiceGuide.objects.none()
    rows = ServiceGuide.objects.filter(path__in=[*community.ancestor_paths(), community.path], is_active=True)
    if category:
        rows = rows.filter(category=category)
    return _search(rows, q.strip()).select_related("area").order_by("category", "name", "id")


def resident_guide_get(*, user: Any, guide_id: int) -> ServiceGuide:
    guide = resident_guides(user).filter(pk=guide_id).first()
    if guide is None:
        raise NotFound()
    return guide


def _in_scope_or_above(user: Any) -> Q | None:
    """Rows at or below the user's scope, and rows of the areas above it (a district's list)."""
    if not is_staff(user):
        return None
    scope = topic_scope(user)
    if scope.area_path is None:
        return None
    if scope.is_everything:
        return Q()
    parts = scope.area_path.split(".")
    return Q(path__in=[".".join(parts[:i]) for i in range(1, len(parts))]) | scope.path_q("path")


def staff_guides(user: Any, *, q: str = "", category: str = "") -> QuerySet[ServiceGuide]:
    where = _in_scope_or_above(user)
    if where is None:
        return ServiceGuide.objects.none()
    rows = ServiceGuide.objects.filter(where)
    if category:
        rows = rows.filter(category=category)
    return _search(rows, q.strip()).select_related("area").order_by("category", "name", "id")


def staff_guide_get(*, user: Any, guide_id: int) -> ServiceGuide:
    guide = staff_guides(user).filter(pk=guide_id).first()
    if guide is None:
        raise NotFound()
    return guide


def categories(rows: QuerySet[ServiceGuide]) -> list[str]:
    return sorted(set(rows.order_by().values_list("category", flat=True)))


# --- admission lists -------------------------------------------------------------------------

ALLOWED, REFUSED, UNLISTED = "allowed", "refused", "unlisted"
VERDICT_LABELS = {ALLOWED: "允许", REFUSED: "不允许", UNLISTED: "未列入清单"}
UNLISTED_NOTE = "该事项未列入社区工作准入清单，社区不能自行决定，请向所在街道（镇）咨询。"


def effective_items(community: Area, *, kind: str = "", q: str = "") -> list[AdmissionItem]:
    """The lines in force for ``community``: the deepest area's line wins for each kind and name."""
    rows = AdmissionItem.objects.filter(path__in=community.ancestor_paths()).select_related("area")
    if kind:
        rows = rows.filter(kind=kind)
    for word in q.split():
        rows = rows.filter(Q(name__icontains=word) | Q(basis__icontains=word))
    chosen: dict[tuple[str, str], AdmissionItem] = {}
    for item in sorted(rows, key=lambda i: i.path.count(".")):
        chosen[(item.kind, item.name)] = item  # deeper areas come later and override
    return sorted(chosen.values(), key=lambda i: (i.kind, i.name))


@dataclass
class AdmissionAnswer:
    question: str
    kind: str
    verdict: str  # allowed / refused / unlisted
    item: AdmissionItem | None
    similar: list[AdmissionItem]

    @property
    def label(self) -> str:
        return VERDICT_LABELS[self.verdict]

    @property
    def kind_label(self) -> str:
        return AdmissionKind(self.kind).label

    @property
    def rule(self) -> str:
        return self.item.basis if self.item else UNLISTED_NOTE

    @property
    def overridden(self) -> bool:
        """Whether the answer comes from a subdistrict's line rather than the district's list."""
        return bool(self.item and self.item.area.level == "subdistrict")


def _key(text: str) -> str:
    return "".join(text.split()).replace("《", "").replace("》", "").lower()


def admission_answer(community: Area, *, kind: str, name: str) -> AdmissionAnswer:
    """May ``community`` take on (issue, hang, do) ``name``? Exact name first, else 未列入清单 with similar lines."""
    if kind not in AdmissionKind.values:
        raise NotFound()
    items = effective_items(community, kind=kind)
    wanted = _key(name)
    found = next((i for i in items if _key(i.name) == wanted), None)
    if found is not None:
        return AdmissionAnswer(name, kind, ALLOWED if found.allowed else REFUSED, found, [])
    similar = [i for i in items if wanted and (wanted in _key(i.name) or _key(i.name) in wanted)][:10]
    return AdmissionAnswer(name, kind, UNLISTED, None, similar)


def staff_items(user: Any, *, kind: str = "", q: str = "") -> QuerySet[AdmissionItem]:
    """The list lines staff may read: those of their scope and of the areas above it."""
    where = _in_scope_or_above(user)
    if where is None:
        return AdmissionItem.objects.none()
    rows = AdmissionItem.objects.filter(where)
    if kind:
        rows = rows.filter(kind=kind)
    for word in q.split():
        rows = rows.filter(Q(name__icontains=word) | Q(basis__icontains=word))
    return rows.select_related("area").order_by("kind", "name", "path")
