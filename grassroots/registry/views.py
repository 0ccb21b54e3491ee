"""Registry pages: search, person, batch query, export, visits, 人户分离, tags.

Thin: the capability is checked before anything is looked up (403), every read goes
through a selector that starts from the user's scope (out of scope → NotFound → 404),
and every write through a service. Pages show masked values only; a full ID or phone
appears once, on the answer to a reveal request, which is never cached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from grassroots.accounts.decorators import capability_required
from grassroots.accounts.scopes import can, scope_for
from grassroots.accounts.views import client_ip
from grassroots.audit.services import Actor, actor_of
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.scope import Scope
from grassroots.places import selectors as places
from grassroots.places.models import Area, AreaLevel
from grassroots.registry import exports, forms, selectors, services
from grassroots.registry.models import Person, Tag

VIEW, UNMASK, EXPORT, EXPORT_PLAIN, VISIT = (
    "registry.view",
    "registry.unmask",
    "registry.export",
    "registry.export_plain",
    "registry.visit",
)
MANAGE = "accounts.manage"
PAGE_SIZE = 100
BATCH_MAX_AGE = 30 * 60  # seconds a batch answer may still be downloaded

View = Callable[..., HttpResponse]


def _actor(request: HttpRequest) -> Actor:
    return actor_of(request.user, client_ip(request))


def _scope(request: HttpRequest, capability: str = VIEW) -> Scope:
    return scope_for(request.user, capability)


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=exports.XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    response["Cache-Control"] = "no-store"
    return response


# --- Search ----------------------------------------------------------------------------


@capability_required(VIEW)
def search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    parsed = selectors.parse_query(q)
    rows: list[selectors.PersonRow] = []
    if parsed.kind not in (selectors.Kind.EMPTY, selectors.Kind.INVALID):
        people = selectors.person_search(actor=_actor(request), scope=_scope(request), query=q)
        rows = selectors.person_rows(people)
    context = {
        "q": q,
        "parsed": parsed,
        "rows": rows,
        "searched": parsed.kind != selectors.Kind.EMPTY,
        "can_export": can(request.user, EXPORT),
        "can_export_plain": can(request.user, EXPORT_PLAIN),
    }
    return render(request, "registry/search.html", context)


# --- Person ----------------------------------------------------------------------------


def _person_page(
    request: HttpRequest,
    person_id: int,
    *,
    revealed: dict[str, str] | None = None,
    form: forms.RevealForm | None = None,
    status: int = 200,
) -> HttpResponse:
    see_sensitive = can(request.user, UNMASK)
    detail = selectors.person_detail(
        actor=_actor(request), scope=_scope(request), person_id=person_id, see_sensitive=see_sensitive
    )
    derived = list(Tag.objects.filter(code__in=services.derived_tag_codes(detail.age)))
    context = {
        "d": detail,
        "p": detail.person,
        "tags": derived + [t for t in detail.tags if not t.is_derived and t.code not in services.DERIVED_TAGS],
        "revealed": revealed or {},
        "reveal_form": form or forms.RevealForm(),
        "can_unmask": see_sensitive,
        "can_split": can(request.user, "registry.review") and len(detail.records) > 1,
        "findings": services.FINDINGS,
    }
    response = render(request, "registry/person.html", context, status=status)
    if revealed:
        response["Cache-Control"] = "no-store"
    return response


@capability_required(VIEW)
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    return _person_page(request, person_id)


@never_cache
@require_POST
@capability_required(VIEW)
def person_reveal(request: HttpRequest, person_id: int) -> HttpResponse:
    form = forms.RevealForm(request.POST)
    if not can(request.user, UNMASK):
        raise Forbidden("您的角色无权查看完整的敏感信息。")
    if not form.is_valid():
        return _person_page(request, person_id, form=form, status=400)
    scope = _scope(request)
    person = selectors.person_get(actor=_actor(request), scope=scope, person_id=person_id)
    value = services.person_reveal(
        actor=_actor(request),
        scope=scope,
        may_unmask=True,
        person=person,
        field=form.cleaned_data["field"],
        reason=form.cleaned_data["reason"],
    )
    return _person_page(request, person_id, revealed={form.cleaned_data["field"]: value or "（未登记）"})


# --- Batch query -----------------------------------------------------------------------


def _batch_salt(request: HttpRequest) -> str:
    return f"registry.batch:{request.user.pk}"


@capability_required(VIEW)
def batch(request: HttpRequest) -> HttpResponse:
    form = forms.BatchForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "max_ids": selectors.MAX_IDS, "can_export": can(request.user, EXPORT)}
    if request.method == "POST" and form.is_valid():
        try:
            entries = form.entries()
            result = selectors.batch_query(actor=_actor(request), scope=_scope(request), entries=entries)
        except DomainError as exc:
            form.add_error(None, exc.message)
            return render(request, "registry/batch.html", context, status=400)
        payload = {
            "found": [[row, p.pk] for row, p in result.found],
            "not_found": result.not_found,
            "invalid": result.invalid,
        }
        context |= {
            "result": result,
            "rows": list(
                zip([r for r, _ in result.found], selectors.person_rows([p for _, p in result.found]), strict=True)
            ),
            "token": signing.dumps(payload, salt=_batch_salt(request), compress=True),
        }
    return render(request, "registry/batch.html", context)


@require_POST
@capability_required(EXPORT)
def batch_download(request: HttpRequest) -> HttpResponse:
    try:
        payload = signing.loads(request.POST.get("token", ""), salt=_batch_salt(request), max_age=BATCH_MAX_AGE)
    except signing.BadSignature:
        messages.error(request, "查询结果已过期，请重新查询后再下载。")
        return redirect("registry:batch")
    scope = _scope(request, EXPORT)
    # The ids came back from the client: read them again within the scope.
    wanted = [int(pid) for _, pid in payload["found"]]
    people = {p.pk: p for p in selectors.list_queryset().filter(scope.path_q("path"), pk__in=wanted)}
    result = selectors.BatchResult(
        found=[(int(row), people[int(pid)]) for row, pid in payload["found"] if int(pid) in people],
        not_found=[(int(r), str(m)) for r, m in payload["not_found"]],
        invalid=[(int(r), str(s), str(why)) for r, s, why in payload["invalid"]],
    )
    data = exports.batch_export(actor=_actor(request), result=result, area_path=scope.area_path or "")
    return _xlsx(data, "batch-query.xlsx")


# --- Export ----------------------------------------------------------------------------


@require_POST
@capability_required(EXPORT)
def export(request: HttpRequest) -> HttpResponse:
    form = forms.ExportForm(request.POST)
    back = reverse("registry:search")
    if form.is_valid() and form.cleaned_data.get("grid"):
        back = reverse("registry:grid", args=[form.cleaned_data["grid"]])
    elif form.is_valid():
        back += "?" + urlencode({"q": form.cleaned_data["q"]})
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(back)
    data = form.cleaned_data
    scope = _scope(request, EXPORT)
    if data.get("grid"):
        grid = _grid(scope, data["grid"])
        people = list(
            selectors.list_queryset()
            .filter(Scope(area_path=grid.path).path_q("path"))
            .order_by("dwelling_id", "id")[: exports.MAX_ROWS + 1]
        )
        selection, area_path = f"grid:{grid.pk}", grid.path
    else:
        people = selectors.person_search(
            actor=_actor(request), scope=scope, query=data["q"], limit=exports.MAX_ROWS + 1
        )
        selection, area_path = "search", scope.area_path or ""
    try:
        content = exports.persons_export(
            actor=_actor(request),
            people=people,
            plain=bool(data.get("plain")),
            may_plain=can(request.user, EXPORT_PLAIN),
            reason=data.get("reason") or "",
            selection=selection,
            area_path=area_path,
        )
    except DomainError as exc:
        if isinstance(exc, Forbidden):
            raise
        messages.error(request, exc.message)
        return redirect(back)
    return _xlsx(content, "persons.xlsx")


# --- Visits ----------------------------------------------------------------------------


@capability_required(VISIT)
def visit(request: HttpRequest, dwelling_id: int) -> HttpResponse:
    scope = _scope(request, VISIT)
    dwelling = places.dwelling_get(scope=scope, dwelling_id=dwelling_id)
    may_sensitive = can(request.user, UNMASK)
    editable = [
        t
        for t in Tag.objects.filter(is_derived=False).exclude(code__in=services.DERIVED_TAGS)
        if may_sensitive or not t.is_sensitive
    ]
    members = selectors.dwelling_members(actor=_actor(request), scope=scope, dwelling=dwelling)
    form = forms.VisitForm(
        request.POST or None, initial={"visited_at": timezone.localtime(clock.now()).replace(second=0, microsecond=0)}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.visit_record(
                    actor=_actor(request),
                    scope=scope,
                    dwelling=dwelling,
                    visited_at=form.cleaned_data["visited_at"],
                    nobody_home=form.cleaned_data["nobody_home"],
                    notes=form.cleaned_data["notes"],
                    findings=form.cleaned_data["findings"],
                    changes=forms.member_updates(request.POST, members, editable),
                    may_edit_sensitive=may_sensitive,
                )
            except DomainError as exc:
                if isinstance(exc, NotFound | Forbidden):
                    raise
                form.add_error(None, exc.message)
            else:
                messages.success(request, "走访记录已保存。")
                return redirect("places:dwelling", dwelling_id=dwelling.pk)
        status = 400
    context = {
        "dwelling": dwelling,
        "building": dwelling.building,
        "form": form,
        "members": [(m, _member_state(m, request.POST if request.method == "POST" else None)) for m in members],
        "editable": editable,
        "visits": selectors.dwelling_visits(scope=scope, dwelling=dwelling),
        "findings": services.FINDINGS,
        "post": request.POST if request.method == "POST" else {},
    }
    return render(request, "registry/visit.html", context, status=status)


# --- 人户分离 and grid residents ----------------------------------------------------------


def _grid(scope: Scope, area_id: int) -> Area:
    area = places.area_get(scope=scope, area_id=area_id)
    if area.level != AreaLevel.GRID:
        raise NotFound()
    return area


def _member_state(person: Person, posted: Any) -> dict[str, Any]:
    """What a member's fields show: the facts now, or what was typed when the form comes back."""
    prefix = f"m{person.pk}-"
    if posted is None:
        return {
            "phone": "",
            "phone_clear": False,
            "tags": {t.code for t in person.tags.all()},
            "moved": False,
            "moved_to": "",
        }
    return {
        "phone": str(posted.get(prefix + "phone", "")),
        "phone_clear": posted.get(prefix + "phone_clear") == "on",
        "tags": {key.removeprefix(prefix + "tag-") for key in posted if key.startswith(prefix + "tag-")},
        "moved": posted.get(prefix + "moved") == "on",
        "moved_to": str(posted.get(prefix + "moved_to", "")),
    }


@capability_required(VIEW)
def separation(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    raw = request.GET.get("area", "")
    roots = places.area_roots(scope=scope)
    if raw.isdigit():
        area = places.area_get(scope=scope, area_id=int(raw))
    elif roots:
        area = roots[0]
    else:
        raise NotFound()
    if area.level == AreaLevel.GRID:
        return redirect("registry:grid_separation", area_id=area.pk)
    counts = selectors.separation_counts(scope=scope, area=area)
    context = {
        "area": area,
        "counts": counts,
        "total_here": sum(c.lives_here for c in counts),
        "total_away": sum(c.registered_away for c in counts),
        "breadcrumb": places.area_breadcrumb(scope=scope, area=area),
        "children": [c for c in places.area_children(scope=scope, area=area) if c.level != AreaLevel.GRID],
    }
    return render(request, "registry/separation.html", context)


@capability_required(VIEW)
def grid_separation(request: HttpRequest, area_id: int) -> HttpResponse:
    scope = _scope(request)
    grid = _grid(scope, area_id)
    lists = selectors.grid_separation(actor=_actor(request), scope=scope, grid=grid)
    context = {"grid": grid, "lists": lists, "breadcrumb": places.area_breadcrumb(scope=scope, area=grid)}
    return render(request, "registry/grid_separation.html", context)


@capability_required(VIEW)
def grid_residents(request: HttpRequest, area_id: int) -> HttpResponse:
    scope = _scope(request)
    grid = _grid(scope, area_id)
    raw = request.GET.get("page", "1")
    page = max(1, int(raw)) if raw.isdigit() else 1
    total = selectors.grid_resident_count(scope=scope, grid=grid)
    people = selectors.grid_residents(
        actor=_actor(request), scope=scope, grid=grid, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    pages = max(1, -(-total // PAGE_SIZE))
    context = {
        "grid": grid,
        "rows": selectors.person_rows(people),
        "total": total,
        "page": page,
        "pages": pages,
        "breadcrumb": places.area_breadcrumb(scope=scope, area=grid),
        "can_export": can(request.user, EXPORT),
        "can_export_plain": can(request.user, EXPORT_PLAIN),
    }
    return render(request, "registry/grid.html", context)


# --- Tags ------------------------------------------------------------------------------


@capability_required(MANAGE)
def tags(request: HttpRequest) -> HttpResponse:
    form = forms.TagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.tag_create(
                actor=_actor(request),
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                sensitive=form.cleaned_data["sensitive"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "标签已添加。")
            return redirect("registry:tags")
    status = 400 if request.method == "POST" else 200
    return render(request, "registry/tags.html", {"form": form, "tags": list(Tag.objects.all())}, status=status)
