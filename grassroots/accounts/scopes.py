"""Turning a user into a Scope, and what each role may do."""

from __future__ import annotations

from typing import Any

from grassroots.accounts.models import Role
from grassroots.core.scope import Scope

# Capabilities by role; pages and services check these, selectors check the scope.
# registry.view: see people (masked); registry.unmask: see a full ID/phone with a reason;
# registry.import: upload departments' files; registry.export: masked xlsx;
# registry.export_plain: plaintext xlsx with a reason; registry.visit: record household visits.
# registry.review: decide record linkage's uncertain pairs, split a wrong merge, place unmatched addresses;
# registry.quality: the data-quality page (aggregates only, no personal data).
# registry.subject_requests: answer residents' personal-information requests (copy, correction, deletion).
# cases.report: raise a case in one's area; cases.view: see the cases of one's area; cases.handle: triage and handle
# as a community; cases.dispatch: whistle and arbitrate as a subdistrict; cases.department: a department's inbox.
# party.view / party.manage: organisations, members, check-ins, services, alliances; volunteers.view /
# volunteers.manage: building roles, volunteers, talents, teams, activities, needs and resources;
# mobilise: start a one-tap mobilisation (一键动员) in one's area and watch its roster.
# engage.view / engage.manage: read / run deliberation, notices, the service guide and service centres;
# engage.propose: put a topic forward as a worker; engage.admission: keep a district's or subdistrict's
# community admission list (社区工作准入). estates.view / estates.manage: property companies, owners'
# committees, surveys, the red/black list, reports before changes, dormitory zones.
# insights.view: dashboards, the big screen, hotspots and reports of one's area; insights.rate: a community's
# monthly rating of departments and partner units; insights.assess: a subdistrict's weights and closing a month.
CAPABILITIES: dict[str, frozenset[str]] = {
    # Residents report and follow their own cases by role; "cases.h5" only shows them the phone pages.
    Role.RESIDENT: frozenset({"cases.h5"}),
    Role.GRID_WORKER: frozenset(
        {
            "places.browse",
            "registry.view",
            "registry.visit",
            "cases.report",
            "cases.view",
            "volunteers.view",
            "engage.view",
            "engage.propose",
        }
    ),
    Role.COMMUNITY_WORKER: frozenset(
        {
            "places.browse",
            "places.edit",
            "registry.view",
            "registry.unmask",
            "registry.import",
            "registry.export",
            "registry.visit",
            "registry.review",
            "registry.quality",
            "registry.subject_requests",
            "cases.report",
            "cases.view",
            "cases.handle",
            "party.view",
            "party.manage",
            "volunteers.view",
            "volunteers.manage",
            "mobilise",
            "insights.view",
            "insights.rate",
            "engage.view",
            "engage.manage",
            "engage.propose",
            "estates.view",
            "estates.manage",
        }
    ),
    Role.SUBDISTRICT_DISPATCHER: frozenset(
        {
            "places.browse",
            "registry.view",
            "registry.import",
            "registry.export",
            "registry.review",
            "registry.quality",
            "registry.subject_requests",
            "cases.view",
            "cases.dispatch",
            "party.view",
            "volunteers.view",
            "mobilise",
            "insights.view",
            "insights.assess",
            "engage.view",
            "engage.admission",
            "estates.view",
        }
    ),
    Role.DEPARTMENT_OFFICER: frozenset({"places.browse", "cases.department"}),
    Role.PARTY_SECRETARY: frozenset(
        {
            "places.browse",
            "party.view",
            "party.manage",
            "volunteers.view",
            "volunteers.manage",
            "engage.view",
            "engage.manage",
            "engage.propose",
            "estates.view",
            "estates.manage",
        }
    ),
    Role.DISTRICT_LEADER: frozenset(
        {
            "places.browse",
            "cases.view",
            "party.view",
            "volunteers.view",
            "mobilise",
            "insights.view",
            "registry.quality",
            "engage.view",
            "engage.admission",
            "estates.view",
        }
    ),
    Role.ADMIN: frozenset(
        {
            "places.browse",
            "places.edit",
            "accounts.manage",
            "registry.view",
            "registry.unmask",
            "registry.import",
            "registry.export",
            "registry.export_plain",
            "registry.visit",
            "registry.review",
            "registry.quality",
            "registry.subject_requests",
            "cases.report",
            "cases.view",
            "cases.handle",
            "cases.dispatch",
            "cases.department",
            "cases.h5",
            "party.view",
            "party.manage",
            "volunteers.view",
            "volunteers.manage",
            "mobilise",
            "insights.view",
            "insights.rate",
            "insights.assess",
            "engage.view",
            "engage.manage",
            "engage.propose",
            "engage.admission",
            "estates.view",
            "estates.manage",
        }
    ),
}


def scope_for(user: Any, capability: str | None = None) -> Scope:
    """The part of the city ``user`` may see, for ``capability`` when one is named.

    Unknown or inactive users, and users whose role lacks the capability, see nothing,
    so a selector given this scope answers NotFound rather than a revealing empty list.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope.nothing()
    if capability is not None and not can(user, capability):
        return Scope.nothing()
    if user.role == Role.ADMIN:
        return Scope.everything()
    if user.role == Role.DEPARTMENT_OFFICER:
        # A dissolved department's officers keep their accounts but lose their view.
        if user.department_id is None or not user.department.is_active:
            return Scope.nothing()
        return Scope(area_path=user.department.path, department_id=user.department_id)
    if user.area_id is None:
        return Scope.nothing()
    return Scope(area_path=user.area.path)


def can(user: Any, capability: str) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return capability in CAPABILITIES.get(user.role, frozenset())
