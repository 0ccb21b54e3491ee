"""The assessment pages (考核): the monthly ranking, the communities' rating form, the subdistrict's weights.

Thin: selectors answer what the user may see (404 out of scope), services validate and write.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from grassroots.accounts.decorators import capability_required
from grassroots.accounts.scopes import can
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.insights.forms import WeightsForm
from grassroots.insights.selectors import assessment as selectors
from grassroots.insights.services import assessment as services


def _int(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise NotFound() from None


@capability_required("insights.view", message="您的角色无权查看考核排名。")
def ranking(request: HttpRequest) -> HttpResponse:
    subdistrict, choices = selectors.ranking_subdistrict(user=request.user, area_id=_int(request.GET.get("area")))
    month = selectors.parse_month(request.GET.get("month"), clock.today())
    result = selectors.ranking(subdistrict=subdistrict, month=month, now=clock.now())
    context = {
        "result": result,
        "choices": choices,
        "month_value": f"{month:%Y-%m}",
        "department_parts": selectors.DEPARTMENT_PARTS,
        "unit_parts": selectors.UNIT_PARTS,
        "may_manage": can(request.user, "insights.assess"),
        "may_rate": can(request.user, "insights.rate"),
    }
    return render(request, "insights/assessment.html", context)


@capability_required("insights.rate", message="只有社区人员可以评分。")
def rate(request: HttpRequest) -> HttpResponse:
    community = selectors.rating_community(user=request.user, area_id=_int(request.GET.get("community")))
    month = selectors.parse_month(request.GET.get("month") or request.POST.get("month"), clock.today())
    subdistrict = selectors.subdistrict_of(community)
    closed = subdistrict is not None and selectors.is_closed(subdistrict, month)
    targets = selectors.rating_targets(community=community, month=month)
    errors: dict[str, str] = {}
    posted: dict[str, tuple[str, str]] = {}
    if request.method == "POST":
        saved = 0
        for t in targets:
            name = f"{t.kind}-{t.key}"
            score_text = request.POST.get(f"{name}-score", "").strip()
            comment = request.POST.get(f"{name}-comment", "")
            posted[name] = (score_text, comment)
            if not score_text:
                continue
            try:
                score = int(score_text)
            except ValueError:
                errors[name] = "评分必须是0到100之间的整数。"
                continue
            try:
                services.rating_save(
                    actor=request.user,
                    community=community,
                    month=month,
                    target_kind=t.kind,
                    target_id=t.key,
                    score=score,
                    comment=comment,
                )
                saved += 1
            except DomainError as exc:
                errors[name] = exc.message
        if not errors:
            messages.success(request, f"已保存{saved}项评分。")
            return redirect(f"{reverse('insights:assessment_rate')}?community={community.pk}&month={month:%Y-%m}")
        messages.error(request, "部分评分未保存，请按提示修改。")
        targets = selectors.rating_targets(community=community, month=month)
    rows = []
    for t in targets:
        name = f"{t.kind}-{t.key}"
        score_text, comment = posted.get(name, ("" if t.score is None else str(t.score), t.comment))
        rows.append({"target": t, "name": name, "score": score_text, "comment": comment, "error": errors.get(name)})
    context = {"community": community, "month": month, "month_value": f"{month:%Y-%m}", "closed": closed, "rows": rows}
    return render(request, "insights/assessment_rate.html", context)


@capability_required("insights.assess", message="只有街道人员可以设置考核权重。")
def weights(request: HttpRequest) -> HttpResponse:
    subdistrict = selectors.weights_subdistrict(user=request.user, area_id=_int(request.GET.get("area")))
    problems: list[str] = []
    if request.method == "POST":
        form = WeightsForm(request.POST)
        try:
            services.weights_save(actor=request.user, subdistrict=subdistrict, values=request.POST)
        except DomainError as exc:
            problems = exc.message.split("；")
        else:
            messages.success(request, "考核权重已保存。")
            return redirect(f"{reverse('insights:assessment')}?area={subdistrict.pk}")
    else:
        form = WeightsForm(initial=selectors.weights_of(subdistrict))
    return render(
        request, "insights/assessment_weights.html", {"subdistrict": subdistrict, "form": form, "problems": problems}
    )


@require_POST
@capability_required("insights.assess", message="只有街道人员可以关闭考核月份。")
def close_month(request: HttpRequest) -> HttpResponse:
    subdistrict = selectors.weights_subdistrict(user=request.user, area_id=_int(request.POST.get("area")))
    month = selectors.parse_month(request.POST.get("month"), clock.today())
    try:
        services.month_close(actor=request.user, subdistrict=subdistrict, month=month)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{month:%Y年%m月}的考核已关闭，社区评分不能再修改。")
    return redirect(f"{reverse('insights:assessment')}?area={subdistrict.pk}&month={month:%Y-%m}")
