"""The permission matrix table: every URL name → how to build its kwargs on a side, and who may use it.

``test_permission_matrix.py`` walks the URL resolver and fails on any URL name missing here, so a
new page cannot go untested. A row names the capabilities of which any one lets a role in
(``grassroots.accounts.scopes.CAPABILITIES``); ``roles`` narrows that where a page is finer than
its capability (written down with the reason). ``kwargs`` builds the URL's arguments from a
side's objects: side A's give the in-scope URL, side B's the out-of-scope one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grassroots.accounts.models import Role
from grassroots.accounts.scopes import CAPABILITIES

Kwargs = Callable[[Any], dict[str, Any]]
MISSING = 999_999  # an id no row has: for objects that belong to no side


@dataclass(frozen=True)
class Row:
    need: tuple[str, ...] = ()  # any one of these capabilities lets a role in
    kwargs: Kwargs | None = None  # side → URL kwargs; None: the URL takes none
    post: bool = False  # POST-only: checked with an empty body
    public: bool = False  # anyone, signed in or not
    login: bool = False  # any signed-in user
    roles: frozenset[str] | None = None  # who is let in, when finer than ``need`` (see ``note``)
    scoped: bool = True  # False: the object belongs to no area (a category, a year), B's kwargs are A's
    query: Kwargs | None = None  # side → GET parameters the page needs
    public_data: bool = False  # shows every area's public fields by design (Open311): no marker check
    empty_for_others: bool = False  # roles without the capability get 200 with an empty JSON list
    probe: Kwargs | None = None  # side → GET parameters naming B's things (area, search text): no B data back
    note: str = ""


def of(obj: str, param: str | None = None) -> Kwargs:
    """``{param: side.objects[obj].pk}``; ``param`` defaults to ``<obj>_id``."""
    return lambda side: {param or f"{obj}_id": side.pk(obj)}


def attr(name: str, param: str) -> Kwargs:
    """``{param: side.<name>.pk}`` for the side's places and people."""
    return lambda side: {param: getattr(side, name).pk}


def fixed(**kwargs: Any) -> Kwargs:
    return lambda side: dict(kwargs)


def caps(*need: str, **kwargs: Any) -> Row:
    return Row(need=need, **kwargs)


ALL_ROLES = frozenset(Role)
STAFF = ALL_ROLES - {Role.RESIDENT}
RESIDENT_ONLY = frozenset({Role.RESIDENT})
# Objects kept at community level: the grid worker's scope is one grid below them.
COMMUNITY_LEVEL = "kept at community level: the grid worker's scope is one grid below it"


def above_grid(*need: str) -> frozenset[str]:
    return frozenset(r for r in Role if r != Role.GRID_WORKER and any(c in CAPABILITIES[r] for c in need))


MATRIX: dict[str, Row] = {
    # --- public and account pages ---------------------------------------------------------------
    "home": Row(login=True, note="redirects each role to its start page"),
    "healthz": Row(public=True),
    "accounts:login": Row(public=True),
    "accounts:login_code": Row(public=True, note="sends a signed-in user on"),
    "accounts:logout": Row(login=True, post=True),
    "accounts:login_sms": Row(public=True),
    "accounts:login_sms_send": Row(public=True, post=True),
    "accounts:password_change": Row(login=True),
    "accounts:two_factor": Row(need=(), roles=STAFF, note="staff only: residents are never asked"),
    # --- places ---------------------------------------------------------------------------------
    "places:browser": caps("places.browse"),
    "places:area": caps("places.browse", kwargs=attr("grid", "area_id")),
    "places:building": caps("places.browse", kwargs=attr("building", "building_id")),
    "places:dwelling": caps("places.browse", kwargs=attr("dwelling", "dwelling_id")),
    "places:map": caps("places.browse"),
    # --- registry imports, review, addresses, quality -------------------------------------------
    "imports:list": caps("registry.import"),
    "imports:upload": caps("registry.import"),
    "imports:detail": caps("registry.import", kwargs=of("import_job", "job_id")),
    "imports:mapping": caps("registry.import", kwargs=of("import_job", "job_id")),
    "imports:progress": caps("registry.import", kwargs=of("import_job", "job_id")),
    "imports:rejected": caps(
        "registry.import",
        kwargs=of("import_job", "job_id"),
        roles=frozenset({Role.COMMUNITY_WORKER, Role.ADMIN}),
        note="the rejected rows hold full ID numbers: only the uploader or a role with registry.unmask",
    ),
    "imports:retry": caps("registry.import", kwargs=of("import_job", "job_id"), post=True),
    "review:queue": caps("registry.review"),
    "review:decided": caps("registry.review"),
    "review:pair": caps("registry.review", kwargs=of("pair")),
    "review:held": caps("registry.review"),
    "review:relink": caps("registry.review", post=True),
    "review:split": caps("registry.review", kwargs=of("record"), post=True),
    "addresses:list": caps("registry.review"),
    "addresses:detail": caps("registry.review", kwargs=of("choice")),
    "addresses:choose": caps("registry.review", kwargs=of("choice"), post=True),
    "addresses:outside": caps("registry.review", kwargs=of("choice"), post=True),
    "addresses:search": caps("registry.review", kwargs=of("choice")),
    "quality:quality": caps("registry.quality"),
    # --- registry -------------------------------------------------------------------------------
    # The query is echoed in the search box: ask for B's name without its marker.
    "registry:search": caps("registry.view", probe=lambda s: {"q": s.person.name.removeprefix(s.tag)}),
    "registry:person": caps("registry.view", kwargs=attr("person", "person_id")),
    "registry:reveal": caps("registry.view", kwargs=attr("person", "person_id"), post=True),
    "registry:batch": caps("registry.view"),
    "registry:batch_download": caps("registry.export", post=True),
    "registry:export": caps("registry.export", post=True),
    "registry:visit": caps("registry.visit", kwargs=attr("dwelling", "dwelling_id")),
    "registry:separation": caps("registry.view"),
    "registry:grid": caps("registry.view", kwargs=attr("grid", "area_id")),
    "registry:grid_separation": caps("registry.view", kwargs=attr("grid", "area_id")),
    "registry:tags": caps("accounts.manage"),
    # Data-subject requests: no request exists in the fixture, so an unknown id must be 404.
    "registry:subject_requests": caps("registry.subject_requests"),
    "registry:subject_request": caps(
        "registry.subject_requests", kwargs=fixed(request_id=MISSING), roles=frozenset(), scoped=False
    ),
    "registry:subject_request_copy": caps(
        "registry.subject_requests", kwargs=fixed(request_id=MISSING), post=True, scoped=False
    ),
    # --- cases: calendar, duty lists, photos, resident H5, staff pages --------------------------
    "cases:calendar": caps("accounts.manage"),
    "cases:calendar_year": caps("accounts.manage", kwargs=fixed(year=2026), scoped=False),
    "cases:calendar_year_mark": caps("accounts.manage", kwargs=fixed(year=2026), post=True, scoped=False),
    "cases:calendar_day_clear": caps("accounts.manage", kwargs=fixed(year=2026), post=True, scoped=False),
    "cases:duty": caps("accounts.manage"),
    "cases:category_new": caps("accounts.manage"),
    "cases:category": caps("accounts.manage", kwargs=lambda s: {"category_id": s.objects["duty"].category_id}),
    "cases:category_edit": caps(
        "accounts.manage", kwargs=lambda s: {"category_id": s.objects["duty"].category_id}, scoped=False
    ),
    "cases:assignment_delete": caps("accounts.manage", kwargs=of("duty", "assignment_id"), post=True),
    "cases:duty_import": caps("accounts.manage"),
    "cases:duty_import_confirm": caps("accounts.manage", post=True),
    "cases:photo": caps(
        "cases.view", "cases.department", "cases.h5", kwargs=of("case_photo", "photo_id"), note="a reporter sees own"
    ),
    "cases:h5_report": caps("cases.h5", "cases.report", note="workers may report from the phone page too"),
    "cases:h5_grids": caps(
        "cases.h5",
        "cases.report",
        public_data=True,
        note="every grid's outline and name (nothing else) for the city-wide report map",
    ),
    "cases:h5_mine": Row(login=True, note="the caller's own reports only"),
    "cases:h5_data_requests": caps("cases.h5"),
    "cases:h5_data_request_new": caps("cases.h5"),
    "cases:h5_data_request": caps("cases.h5", kwargs=fixed(request_id=MISSING), roles=frozenset(), scoped=False),
    "cases:h5_data_request_copy": caps("cases.h5", kwargs=fixed(request_id=MISSING), roles=frozenset(), scoped=False),
    "cases:h5_case": caps("cases.h5", kwargs=of("case"), roles=RESIDENT_ONLY, note="the reporter's own case"),
    "cases:queue": caps("cases.handle", "cases.dispatch"),
    "cases:inbox": caps("cases.department"),
    "cases:patrol": caps("cases.report"),
    "cases:verify_list": caps("cases.report"),
    "cases:list": caps("cases.view", "cases.department"),
    "cases:case": caps("cases.view", "cases.department", kwargs=of("case")),
    "cases:hotline_import": caps("cases.handle", "cases.dispatch"),
    "cases:hotline_import_confirm": caps("cases.handle", "cases.dispatch", post=True),
    "cases:hotline_import_report": caps("cases.handle", "cases.dispatch", post=True),
    "cases:measures": caps(
        "cases.view", "cases.dispatch", "cases.handle", "cases.department", probe=lambda s: {"area": s.community.pk}
    ),
    "cases:qr_sheet": caps("places.browse", kwargs=lambda s: {"kind": "buildings", "pk": s.building.pk}),
    "cases:qr_preview": caps("places.browse", kwargs=lambda s: {"kind": "buildings", "pk": s.building.pk}),
    "notify:messages": Row(login=True),
    # --- volunteers -----------------------------------------------------------------------------
    "volunteers:roles": caps("volunteers.view"),
    "volunteers:grid_roles": caps("volunteers.view", kwargs=attr("grid", "grid_id")),
    "volunteers:building_roles": caps("volunteers.view", kwargs=attr("building", "building_id")),
    "volunteers:role_end": caps("volunteers.manage", kwargs=of("role"), post=True),
    "volunteers:volunteers": caps("volunteers.view"),
    "volunteers:register": caps("volunteers.manage"),
    "volunteers:volunteer": caps("volunteers.view", kwargs=of("volunteer")),
    "volunteers:teams": caps("volunteers.view"),
    "volunteers:team": caps(
        "volunteers.view", kwargs=of("team"), roles=above_grid("volunteers.view"), note=COMMUNITY_LEVEL
    ),
    "volunteers:team_member_remove": caps(
        "volunteers.manage", kwargs=lambda s: {"team_id": s.pk("team"), "person_id": s.person.pk}, post=True
    ),
    "volunteers:team_dissolve": caps("volunteers.manage", kwargs=of("team"), post=True),
    "volunteers:activities": caps("volunteers.view"),
    "volunteers:activity_new": caps("volunteers.manage"),
    "volunteers:activity": caps(
        "volunteers.view", kwargs=of("activity"), roles=above_grid("volunteers.view"), note=COMMUNITY_LEVEL
    ),
    "volunteers:signup_add": caps("volunteers.manage", kwargs=of("activity"), post=True),
    "volunteers:activity_cancel": caps("volunteers.manage", kwargs=of("activity"), post=True),
    "volunteers:signup_withdraw": caps("volunteers.manage", kwargs=of("signup"), post=True),
    "volunteers:attendance": caps("volunteers.manage", kwargs=of("signup"), post=True),
    "volunteers:hours": caps("volunteers.view"),
    "volunteers:needs": caps("volunteers.view"),
    "volunteers:need_new": caps("volunteers.manage"),
    "volunteers:need_close": caps("volunteers.manage", kwargs=of("need"), post=True),
    "volunteers:resource_new": caps("volunteers.manage"),
    "volunteers:propose": caps("volunteers.manage", post=True),
    "volunteers:match_accept": caps("volunteers.manage", kwargs=of("match"), post=True),
    "volunteers:match_decline": caps("volunteers.manage", kwargs=of("match"), post=True),
    "volunteers:projects": caps("volunteers.view"),
    "volunteers:project": caps(
        "volunteers.view", kwargs=of("project"), roles=above_grid("volunteers.view"), note=COMMUNITY_LEVEL
    ),
    "volunteers:mobilisation_index": caps("mobilise"),
    "volunteers:mobilisation_start": caps("mobilise"),
    "volunteers:mobilisation_drills": caps("mobilise"),
    "volunteers:mobilisation_detail": caps("mobilise", kwargs=of("mobilisation")),
    "volunteers:mobilisation_roster": caps("mobilise", kwargs=of("mobilisation")),
    "volunteers:mobilisation_end": caps("mobilise", kwargs=of("mobilisation"), post=True),
    "volunteers:mobilisation_link": Row(
        public=True,
        kwargs=fixed(token="not-a-token-0000000000"),
        scoped=False,
        note="a capability link: the token is the permission; an unknown token is 404 for everyone",
    ),
    # --- party ----------------------------------------------------------------------------------
    "party:tree": caps("party.view"),
    "party:org_create": caps("party.manage"),
    "party:org": caps("party.view", kwargs=of("org")),
    "party:members": caps("party.view"),
    "party:member_create": caps("party.manage"),
    "party:member": caps("party.view", kwargs=of("member")),
    "party:member_deactivate": caps("party.manage", kwargs=of("member"), post=True),
    "party:checkin_start": Row(public=True),
    "party:checkin": Row(public=True, kwargs=attr("community", "community_id"), scoped=False),
    "party:checkin_qr": caps("party.manage", kwargs=attr("community", "community_id")),
    "party:checkins": caps("party.view"),
    "party:checkin_decide": caps("party.manage", kwargs=of("checkin"), post=True),
    "party:services": caps("party.view"),
    "party:service_confirm": caps("party.manage", kwargs=of("service", "record_id"), post=True),
    "party:targets": caps("party.view"),
    "party:unit_report": caps("party.view"),
    "party:alliances": caps("party.view"),
    "party:alliance_create": caps("party.manage"),
    "party:alliance": caps("party.view", kwargs=of("alliance")),
    "party:alliance_edit": caps("party.manage", kwargs=of("alliance")),
    "party:alliance_member_add": caps("party.manage", kwargs=of("alliance")),
    "party:alliance_member_leave": caps(
        "party.manage",
        kwargs=lambda s: {"alliance_id": s.pk("alliance"), "member_id": s.pk("alliance_member")},
        post=True,
    ),
    "party:alliance_rotation": caps("party.manage", kwargs=of("alliance"), post=True),
    "party:alliance_item_add": caps("party.manage", kwargs=of("alliance")),
    "party:alliance_item_edit": caps(
        "party.manage", kwargs=lambda s: {"alliance_id": s.pk("alliance"), "item_id": s.pk("alliance_item")}
    ),
    "party:alliance_item_status": caps(
        "party.manage",
        kwargs=lambda s: {"alliance_id": s.pk("alliance"), "item_id": s.pk("alliance_item")},
        post=True,
    ),
    "party:pairings": caps("party.view"),
    "party:pairing_create": caps("party.manage"),
    "party:pairing_end": caps("party.manage", kwargs=of("pairing"), post=True),
    "party:unit_pairings": caps("party.view", kwargs=of("unit")),
    # --- estates --------------------------------------------------------------------------------
    "estates:committees": caps("estates.view"),
    "estates:committee_create": caps("estates.manage"),
    "estates:committee": caps("estates.view", kwargs=of("committee")),
    "estates:member_add": caps("estates.manage", kwargs=of("committee")),
    "estates:cross": caps("estates.view", kwargs=of("committee")),
    "estates:red_committees": caps("estates.view"),
    "estates:companies": caps("estates.view"),
    "estates:company_create": caps("estates.manage"),
    "estates:company": caps("estates.view", kwargs=of("company")),
    "estates:compound": caps("estates.view", kwargs=attr("compound", "compound_id")),
    "estates:survey": caps("estates.view", kwargs=of("survey")),
    "estates:red_black": caps("estates.view"),
    "estates:reports": caps("estates.view"),
    "estates:dormitories": caps("estates.view"),
    "estates:zone_edit": caps("estates.manage", kwargs=of("dormitory", "compound_id")),
    "estates:dormitory": caps("estates.view", kwargs=of("zone")),
    "estates:h5_surveys": caps("cases.h5"),
    "estates:h5_survey": caps("cases.h5", kwargs=of("survey")),
    # --- engage ---------------------------------------------------------------------------------
    "engage:h5_topics": caps("cases.h5", roles=RESIDENT_ONLY),
    "engage:h5_propose": caps("cases.h5", roles=RESIDENT_ONLY),
    "engage:h5_topic": caps("cases.h5", kwargs=of("topic"), note="the resident's community's topics"),
    "engage:h5_notices": caps("cases.h5", roles=RESIDENT_ONLY),
    "engage:h5_notice": caps("cases.h5", kwargs=of("notice"), roles=RESIDENT_ONLY),
    "engage:photo": caps(
        "engage.view",
        "cases.h5",
        kwargs=of("topic_photo", "photo_id"),
        roles=above_grid("engage.view", "cases.h5"),
        note=COMMUNITY_LEVEL,
    ),
    "engage:topics": caps("engage.view", "engage.manage"),
    "engage:topic_new": caps("engage.propose"),
    "engage:topic": caps(
        "engage.view",
        "engage.manage",
        kwargs=of("topic"),
        roles=above_grid("engage.view", "engage.manage"),
        note=COMMUNITY_LEVEL,
    ),
    "engage:settings": caps("engage.manage"),
    "engage:meetings": caps("engage.view", "engage.manage"),
    "engage:meeting": caps(
        "engage.view",
        "engage.manage",
        kwargs=of("meeting"),
        roles=above_grid("engage.view", "engage.manage"),
        note=COMMUNITY_LEVEL,
    ),
    "engage:notices": caps("engage.view", "engage.manage"),
    "engage:notice": caps("engage.manage", kwargs=of("notice")),
    "engage:h5_guides": caps("cases.h5", roles=RESIDENT_ONLY),
    "engage:h5_guide": caps("cases.h5", kwargs=of("guide"), roles=RESIDENT_ONLY),
    "engage:h5_admission": caps("cases.h5", roles=RESIDENT_ONLY),
    "engage:guides": caps("engage.view", "engage.manage", "engage.admission"),
    "engage:guide": caps("engage.manage", kwargs=of("guide")),
    "engage:guide_import": caps("engage.manage"),
    "engage:guide_import_confirm": caps("engage.manage", post=True),
    "engage:admission": caps("engage.view", "engage.manage", "engage.admission"),
    "engage:admission_ask": caps("engage.view", "engage.manage", "engage.admission"),
    "engage:admission_item": caps(
        "engage.view",
        "engage.manage",
        "engage.admission",
        kwargs=of("admission", "item_id"),
        roles=frozenset({Role.SUBDISTRICT_DISPATCHER, Role.DISTRICT_LEADER, Role.ADMIN}),
        note="an item opens for those who keep the list where it sits (here the subdistrict's)",
    ),
    "engage:centres": caps("engage.view", "engage.manage"),
    "engage:centre": caps(
        "engage.view",
        "engage.manage",
        kwargs=of("centre"),
        roles=above_grid("engage.view", "engage.manage"),
        note=COMMUNITY_LEVEL,
    ),
    # --- insights -------------------------------------------------------------------------------
    "insights:dashboard": caps("insights.view"),
    "insights:bigscreen": caps("insights.view"),
    "insights:hotspots": caps("insights.view"),
    "insights:hotspot_convert": caps(
        "cases.handle", "cases.dispatch", kwargs=fixed(token="0" * 16), post=True, scoped=False
    ),
    "insights:hotspot_dismiss": caps(
        "cases.handle", "cases.dispatch", kwargs=fixed(token="0" * 16), post=True, scoped=False
    ),
    "insights:assessment": caps("insights.view"),
    "insights:assessment_rate": caps("insights.rate"),
    "insights:assessment_weights": caps("insights.assess"),
    "insights:assessment_close": caps("insights.assess", post=True),
    "insights:monthly_report": caps("insights.view"),
    "insights:planning": caps("insights.view"),
    "insights:planning_propose": caps("places.edit", post=True),
    "insights:planning_decide": caps(
        "places.edit", kwargs=fixed(pk=MISSING, decision="accept"), post=True, scoped=False
    ),
    "insights:compliance": caps("insights.view"),
    # --- JSON API (django-ninja) ----------------------------------------------------------------
    "api:openapi-json": Row(login=True, note="the schema; ninja serves it to signed-in callers"),
    "api:openapi-view": Row(login=True),
    "api:api-root": Row(public=True, note="ninja answers 404 at the root"),
    "api:list_roots": caps("places.browse", empty_for_others=True),
    "api:get_area": caps("places.browse", kwargs=attr("grid", "area_id")),
    "api:grid_geojson": caps("places.browse", kwargs=attr("grid", "area_id")),
    "api:grid_buildings": caps("places.browse", kwargs=attr("grid", "area_id")),
    "api:get_building": caps("places.browse", kwargs=attr("building", "building_id")),
    "api:locate": caps("places.browse", query=lambda s: {"lon": s.building.lon, "lat": s.building.lat}),
    "api:upload_photo": caps("cases.report", "cases.h5", post=True),
    "api:submit": caps("cases.report", "cases.h5", post=True),
    "api:list_cases": caps(
        "cases.view", "cases.department", "cases.h5", empty_for_others=True, note="the caller's cases; none is []"
    ),
    "api:get_case": caps("cases.view", "cases.department", "cases.h5", kwargs=of("case")),
    "api:act": caps("cases.handle", "cases.dispatch", "cases.department", kwargs=of("case"), post=True),
    # --- Open311 GeoReport v2: public reads of public fields, by design -------------------------
    "open311:discovery": Row(public=True, public_data=True, kwargs=fixed(fmt="json"), scoped=False),
    "open311:services": Row(public=True, public_data=True, kwargs=fixed(fmt="json"), scoped=False),
    "open311:service": Row(public=True, public_data=True, kwargs=fixed(code="road.pothole", fmt="json"), scoped=False),
    "open311:requests": Row(public=True, public_data=True, kwargs=fixed(fmt="json"), scoped=False),
    "open311:request": Row(
        public=True,
        public_data=True,
        kwargs=lambda s: {"request_id": s.objects["case"].number, "fmt": "json"},
        scoped=False,
        note="GeoReport reads are public and city-wide; only public fields are shown",
    ),
    "open311:token": Row(public=True, public_data=True, kwargs=fixed(token="no-such-token", fmt="json"), scoped=False),
}
