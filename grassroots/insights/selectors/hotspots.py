"""Reads for hotspots (未诉先办): the cases of the actor's scope fed to the pure engine.

The engine (``grassroots/insights/hotspots_engine.py``) decides what a hotspot is; this module only
loads plain records from the actor's scope (``insights.view``), labels the results, and hides
hotspots whose evidence was already turned into a case or dismissed (``HotspotDecision``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q

from grassroots.accounts.scopes import can, scope_for
from grassroots.cases.models import Case, Category, Channel
from grassroots.cases.workflow import CaseState
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.insights import hotspots_engine as engine
from grassroots.insights.models import HotspotDecision
from grassroots.places.models import Area, AreaLevel, Building, Compound

CONVERT_CAPABILITIES = ("cases.handle", "cases.dispatch")
# Cases that are not evidence of a recurring problem: merged into another, cancelled, or raised by us.
_NOT_EVIDENCE = (CaseState.merged.value, CaseState.cancelled.value)


def token(hotspot: engine.Hotspot) -> str:
    """A short, stable identity of the exact hotspot (signature + evidence) for forms and decisions."""
    return hashlib.sha256(hotspot.key.encode()).hexdigest()[:40]


@dataclass
class HotspotView:
    hotspot: engine.Hotspot
    token: str
    category: Category
    subject_label: str
    area_label: str
    evidence: list[Case]
    anchor: Case
    decided_before: int = 0  # evidence cases already covered by an earlier decision on the same signature
    details: list[str] = field(default_factory=list)


def hotspot_scope(user: Any) -> Scope:
    scope = scope_for(user, "insights.view")
    if scope.area_path is None:
        raise NotFound()
    return scope


def may_convert(user: Any) -> bool:
    return any(can(user, c) for c in CONVERT_CAPABILITIES)


def _community_paths(scope: Scope) -> dict[str, str]:
    rows = Area.objects.filter(scope.path_q("path"), level=AreaLevel.COMMUNITY).values_list("path", "name")
    found = dict(rows)
    if scope.area_path:  # a scope inside a community (a grid) still knows its community
        parent = Area.objects.filter(level=AreaLevel.COMMUNITY).filter(
            path__in=[scope.area_path.rsplit(".", n)[0] for n in range(1, scope.area_path.count(".") + 1)]
        )
        found.update(parent.values_list("path", "name"))
    return found


def _community_of(path: str, communities: dict[str, str], cache: dict[str, str]) -> str:
    if path not in cache:
        parts = path.split(".")
        cache[path] = next((p for p in (".".join(parts[:n]) for n in range(len(parts), 0, -1)) if p in communities), "")
    return cache[path]


def case_records(*, scope: Scope, now: datetime, rules: engine.Rules) -> list[engine.CaseRecord]:
    """The scope's cases the engine needs: the window, and for rising categories two periods and last season."""
    span = max(rules.window_days, 2 * rules.period_days, 365 + rules.period_days)
    communities = _community_paths(scope)
    cache: dict[str, str] = {}
    rows = (
        Case.objects.filter(scope.path_q("path"), created_at__gt=now - timedelta(days=span), created_at__lte=now)
        .exclude(state__in=_NOT_EVIDENCE)
        .exclude(channel=Channel.PROACTIVE)
        .values_list("id", "category_id", "created_at", "lon", "lat", "building_id", "building__compound_id", "path")
        .order_by()
    )
    return [
        engine.CaseRecord(
            id=pk,
            category_id=category_id,
            created_at=created_at,
            lon=lon,
            lat=lat,
            building_id=building_id,
            compound_id=compound_id,
            community_path=_community_of(path, communities, cache),
        )
        for pk, category_id, created_at, lon, lat, building_id, compound_id, path in rows
    ]


def decided_evidence(hotspots: list[engine.Hotspot]) -> dict[str, frozenset[int]]:
    """Evidence already acted on, per signature and (for rising categories) per category."""
    signatures = {h.signature for h in hotspots}
    rising = {h.category_id for h in hotspots if h.kind == "rising"}
    found: dict[str, set[int]] = {}
    rows = HotspotDecision.objects.filter(Q(signature__in=signatures) | Q(category_id__in=rising)).values_list(
        "signature", "category_id", "evidence"
    )
    for signature, category_id, evidence in rows:
        ids = {int(i) for i in evidence}
        found.setdefault(signature, set()).update(ids)
        found.setdefault(engine.category_key(category_id), set()).update(ids)
    return {k: frozenset(v) for k, v in found.items()}


def _views(hotspots: list[engine.Hotspot], decided: dict[str, frozenset[int]], scope: Scope) -> list[HotspotView]:
    ids = {i for h in hotspots for i in h.evidence}
    cases = {c.pk: c for c in Case.objects.filter(pk__in=ids).select_related("category", "grid", "building")}
    categories = {c.pk: c for c in Category.objects.filter(pk__in={h.category_id for h in hotspots})}
    buildings = dict(
        Building.objects.filter(pk__in=[int(h.subject) for h in hotspots if h.kind == "building"]).values_list(
            "pk", "name"
        )
    )
    building_compounds = dict(
        Building.objects.filter(pk__in=buildings, compound__isnull=False).values_list("pk", "compound__name")
    )
    compounds = dict(
        Compound.objects.filter(pk__in=[int(h.subject) for h in hotspots if h.kind == "compound"]).values_list(
            "pk", "name"
        )
    )
    communities = _community_paths(scope)
    cache: dict[str, str] = {}
    views = []
    for h in hotspots:
        anchor = cases[h.anchor]
        community = communities.get(_community_of(anchor.path, communities, cache), "")
        if h.kind == "building":
            b = int(h.subject)
            subject = f"{building_compounds.get(b, '')}{buildings.get(b, '')}"
        elif h.kind == "compound":
            subject = compounds.get(int(h.subject), "")
        elif h.kind == "place":
            subject = anchor.address_text or (anchor.building.name if anchor.building else f"{anchor.grid.name}附近")
            subject = f"{subject}（半径{h.radius_m:.0f}米内）"
        else:
            subject = communities.get(h.subject, h.subject)
        details = []
        if h.kind == "rising":
            details.append(
                f"近期{h.current}件，上期{h.previous}件，去年同期{h.last_year}件，基准{h.baseline:g}件，"
                f"泊松检验 p={h.p_value:.4f}"
            )
        seen = decided.get(h.signature, frozenset())
        views.append(
            HotspotView(
                hotspot=h,
                token=token(h),
                category=categories[h.category_id],
                subject_label=subject,
                area_label=community,
                evidence=[cases[i] for i in h.evidence],
                anchor=anchor,
                decided_before=sum(1 for i in h.evidence if i in seen),
                details=details,
            )
        )
    return views


def hotspot_list(*, user: Any, now: datetime, rules: engine.Rules | None = None) -> list[HotspotView]:
    """Open hotspots in the user's scope (``insights.view``), strongest first; decided evidence left out."""
    rules = rules or engine.Rules()
    scope = hotspot_scope(user)
    found = engine.detect(case_records(scope=scope, now=now, rules=rules), now=now, rules=rules)
    decided = decided_evidence(found)
    open_ = [h for h in found if engine.still_open(h, decided, rules)]
    return _views(open_, decided, scope)


def hotspot_get(*, user: Any, token_: str, now: datetime, rules: engine.Rules | None = None) -> HotspotView:
    for view in hotspot_list(user=user, now=now, rules=rules):
        if view.token == token_:
            return view
    raise NotFound("未找到该热点：可能已被处理、已不在统计窗口内，或不在您的管辖范围内。")


def recent_decisions(*, user: Any, limit: int = 30) -> list[HotspotDecision]:
    scope = hotspot_scope(user)
    return list(
        HotspotDecision.objects.filter(scope.path_q("path"))
        .select_related("category", "case", "decided_by")
        .order_by("-decided_at", "-id")[:limit]
    )


def decision_for(token_: str) -> HotspotDecision | None:
    return HotspotDecision.objects.filter(key=token_).select_related("case").first()
