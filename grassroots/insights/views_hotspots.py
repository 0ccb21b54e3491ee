"""The hotspot page (未诉先办): recurring problems in the user's scope with their evidence.

Thin: the selector loads and labels, the pure engine detects, the services convert or dismiss.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from grassroots.accounts.decorators import capability_required
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.insights.forms import DismissForm, HotspotRulesForm
from grassroots.insights.selectors import hotspots as selectors
from grassroots.insights.services import hotspots as services


def _rules_form(data: object) -> HotspotRulesForm:
    return HotspotRulesForm(data)  # type: ignore[arg-type]


@capability_required("insights.view", message="您的角色无权查看热点研判。")
def hotspot_list(request: HttpRequest) -> HttpResponse:
    form = _rules_form(request.GET or None)
    rules = form.rules()
    views = selectors.hotspot_list(user=request.user, now=clock.now(), rules=rules)
    context = {
        "form": form,
        "rules": rules,
        "query": form.query(),
        "hotspots": views,
        "decisions": selectors.recent_decisions(user=request.user),
        "may_convert": selectors.may_convert(request.user),
    }
    return render(request, "insights/hotspots.html", context)


def _back(form: HotspotRulesForm) -> str:
    return f"{reverse('insights:hotspots')}?{form.query()}"


@require_POST
@capability_required(*selectors.CONVERT_CAPABILITIES, message="只有社区或街道人员可以处理热点。")
def hotspot_convert(request: HttpRequest, token: str) -> HttpResponse:
    form = _rules_form(request.POST)
    try:
        decision = services.hotspot_convert(actor=request.user, token=token, rules=form.rules())
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_back(form))
    case = decision.case
    messages.success(request, f"已生成未诉先办案件 {case.number if case else ''}，并按事项清单派至责任单位。")
    return redirect(_back(form))


@require_POST
@capability_required(*selectors.CONVERT_CAPABILITIES, message="只有社区或街道人员可以处理热点。")
def hotspot_dismiss(request: HttpRequest, token: str) -> HttpResponse:
    form = _rules_form(request.POST)
    dismiss = DismissForm(request.POST)
    if not dismiss.is_valid():
        messages.error(request, "；".join(str(e) for errors in dismiss.errors.values() for e in errors))
        return redirect(_back(form))
    try:
        services.hotspot_dismiss(
            actor=request.user, token=token, reason=dismiss.cleaned_data["reason"], rules=form.rules()
        )
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_back(form))
    messages.success(request, "已忽略该热点；相同的证据案件不再提示。")
    return redirect(_back(form))
