"""Pages of the linkage review queue (比对核查): pairs to decide, held records, splitting a record off.

The capability is checked first (403); reads go through selectors that start from the scope
(404 outside it); writes through ``registry.services.linking``, which checks both again.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from grassroots.accounts.decorators import capability_required
from grassroots.accounts.scopes import scope_for
from grassroots.accounts.views import client_ip
from grassroots.audit.services import Actor, actor_of
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.registry.models import PairDecision, PairReason, SourceRecord
from grassroots.registry.review import selectors
from grassroots.registry.services import linking

REVIEW = "registry.review"
PAGE_SIZE = 50


def _actor(request: HttpRequest) -> Actor:
    return actor_of(request.user, client_ip(request))


def _scope(request: HttpRequest) -> Scope:
    return scope_for(request.user, REVIEW)


@capability_required(REVIEW)
def queue(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    reason = request.GET.get("reason", "")
    if reason not in PairReason.values:
        reason = ""
    page = Paginator(selectors.pending_pairs(scope=scope, reason=reason), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "reason": reason,
        "reasons": PairReason.choices,
        "summary": selectors.summary(scope=scope),
        "runs": selectors.recent_runs(scope=scope),
    }
    return render(request, "registry/review_queue.html", context)


@capability_required(REVIEW)
def decided(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.decided_pairs(scope=_scope(request)), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "registry/review_decided.html", {"page": page})


@capability_required(REVIEW)
def pair(request: HttpRequest, pair_id: int) -> HttpResponse:
    scope = _scope(request)
    view = selectors.pair_view(actor=_actor(request), scope=scope, pair_id=pair_id)
    error = ""
    if request.method == "POST":
        decision = request.POST.get("decision", "")
        detach = None
        if request.POST.get("detach"):
            detach_id = request.POST["detach"]
            detach = next((r for r in (view.pair.left, view.pair.right) if str(r.pk) == detach_id), None)
            if detach is None:
                error = "要拆出的记录不属于这对记录。"
        if not error:
            try:
                linking.pair_decide(
                    actor=_actor(request),
                    scope=scope,
                    may_review=True,
                    pair=view.pair,
                    decision=decision,
                    note=request.POST.get("note", ""),
                    detach=detach,
                )
            except DomainError as exc:
                error = exc.message
            else:
                label = PairDecision(decision).label
                messages.success(request, f"已记录：{label}。此结论今后每次比对都会沿用。")
                following = selectors.pending_pairs(scope=scope).exclude(pk=pair_id).first()
                if following is not None:
                    return redirect("review:pair", following.pk)
                return redirect("review:queue")
    status = 400 if error else 200
    return render(
        request, "registry/review_pair.html", {"v": view, "error": error, "fields": selectors.FIELDS}, status=status
    )


@capability_required(REVIEW)
def held(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.held_records(scope=_scope(request)), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "registry/review_held.html", {"page": page})


@require_POST
@capability_required(REVIEW)
def relink(request: HttpRequest) -> HttpResponse:
    """Try every held record of the scope again (after new imports or corrected data)."""
    outcome = linking.link_held(scope=_scope(request), actor=_actor(request))
    if outcome.run.status == "failed":
        messages.error(request, "比对运行失败，已记录错误，请联系管理员查看比对运行记录。")
    else:
        messages.success(request, f"比对完成：{outcome.linked}条记录已关联到人员，新增{outcome.queued}对待核对。")
    return redirect("review:held")


@require_POST
@capability_required(REVIEW)
def split(request: HttpRequest, record_id: int) -> HttpResponse:
    """From the person page: this record is not this person."""
    scope = _scope(request)
    record = get_object_or_404(SourceRecord.objects.select_related("person"), pk=record_id)
    person_id = record.person_id
    if person_id is None or not scope.covers_path(record.path):
        raise NotFound()
    try:
        linking.record_split(
            actor=_actor(request), scope=scope, may_review=True, record=record, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已将该来源记录从此人员拆出，今后比对不会再把它归入此人。")
    return redirect(reverse("registry:person", args=[person_id]) + "#records")
