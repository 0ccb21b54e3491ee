"""Pages of volunteer activities: list, new, detail with sign-ups and attendance, hours."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from grassroots.accounts.scopes import scope_for
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden
from grassroots.core.scope import Scope
from grassroots.places.selectors import area_get, area_roots
from grassroots.volunteers import selectors, services
from grassroots.volunteers.forms import ActivityFilterForm, ActivityForm, AttendanceForm, CancelForm, SignupForm
from grassroots.volunteers.models import SignupState
from grassroots.volunteers.views import (
    MANAGE,
    VIEW,
    capability_required,
    domain_message,
    form_errors,
    may_manage,
    paginate,
    person_search_context,
    view_scope,
)


@capability_required(VIEW)
def activity_list(request: HttpRequest) -> HttpResponse:
    scope = view_scope(request)
    filters = ActivityFilterForm(request.GET or None)
    when = filters.cleaned_data.get("when", "") if filters.is_bound and filters.is_valid() else ""
    rows = selectors.activity_queryset(scope=scope, when=when, now=clock.now())
    page, query = paginate(request, rows)
    context = {
        "filters": filters,
        "page": page,
        "query": query,
        "now": clock.now(),
        "may_manage": may_manage(request),
        "tab": "activities",
    }
    return render(request, "volunteers/activity_list.html", context)


@capability_required(MANAGE, "您的角色无权发布志愿活动。")
def activity_new(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user, MANAGE)
    form = ActivityForm(request.POST or None, scope_q=scope.path_q())
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.activity_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            if error.field and error.field in form.fields:
                form.add_error(error.field, error.message)
            else:
                domain_message(request, error)
        else:
            messages.success(request, f"已发布活动“{activity.title}”。")
            return redirect("volunteers:activity", activity_id=activity.pk)
    return render(request, "volunteers/activity_new.html", {"form": form, "tab": "activities"})


@capability_required(VIEW)
def activity_detail(request: HttpRequest, activity_id: int) -> HttpResponse:
    scope = view_scope(request)
    activity = selectors.activity_get(scope=scope, activity_id=activity_id)
    signups = selectors.activity_signups(scope=scope, activity=activity)
    now = clock.now()
    manage = may_manage(request) and not activity.cancelled
    context = {
        "activity": activity,
        "signups": signups,
        "taken": sum(1 for s in signups if s.state in (SignupState.SIGNED_UP, SignupState.ATTENDED)),
        "attended_hours": sum((s.hours for s in signups if s.state == SignupState.ATTENDED), start=0),
        "length": services.activity_hours(activity),
        "open": manage and activity.ends_at > now,
        "started": activity.starts_at <= now,
        "may_manage": manage,
        "tab": "activities",
    }
    if context["open"]:
        context.update(person_search_context(request))
        signed = {s.person_id for s in signups if s.state != SignupState.WITHDRAWN}
        context["signed"] = signed
    return render(request, "volunteers/activity_detail.html", context)


@require_POST
@capability_required(MANAGE, "您的角色无权登记报名。")
def signup_add(request: HttpRequest, activity_id: int) -> HttpResponse:
    scope = scope_for(request.user, MANAGE)
    activity = selectors.activity_get(scope=scope, activity_id=activity_id)
    form = SignupForm(request.POST)
    if form.is_valid():
        try:
            person = selectors.person_in_scope(scope=scope, person_id=form.cleaned_data["person"])
            services.signup_add(actor=request.user, activity=activity, person=person)
        except DomainError as error:
            domain_message(request, error)
        else:
            messages.success(request, f"{person.name} 已报名。")
    else:
        form_errors(request, form)
    return redirect("volunteers:activity", activity_id=activity.pk)


@require_POST
@capability_required(MANAGE, "您的角色无权取消报名。")
def signup_withdraw(request: HttpRequest, signup_id: int) -> HttpResponse:
    signup = selectors.signup_get(scope=scope_for(request.user, MANAGE), signup_id=signup_id)
    try:
        services.signup_withdraw(actor=request.user, signup=signup)
    except DomainError as error:
        domain_message(request, error)
    else:
        messages.success(request, f"已取消 {signup.person.name} 的报名。")
    return redirect("volunteers:activity", activity_id=signup.activity_id)


@require_POST
@capability_required(MANAGE, "您的角色无权登记签到。")
def attendance(request: HttpRequest, signup_id: int) -> HttpResponse:
    signup = selectors.signup_get(scope=scope_for(request.user, MANAGE), signup_id=signup_id)
    form = AttendanceForm(request.POST)
    if form.is_valid():
        try:
            services.attendance_record(
                actor=request.user,
                signup=signup,
                attended=form.cleaned_data["attended"],
                hours=form.cleaned_data["hours"],
            )
        except DomainError as error:
            domain_message(request, error)
        else:
            messages.success(request, f"已登记 {signup.person.name} 的签到。")
    else:
        form_errors(request, form)
    return redirect("volunteers:activity", activity_id=signup.activity_id)


@require_POST
@capability_required(MANAGE, "您的角色无权取消活动。")
def activity_cancel(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = selectors.activity_get(scope=scope_for(request.user, MANAGE), activity_id=activity_id)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.activity_cancel(actor=request.user, activity=activity, reason=form.cleaned_data["reason"])
        except DomainError as error:
            domain_message(request, error)
        else:
            messages.success(request, "活动已取消。")
    else:
        form_errors(request, form)
    return redirect("volunteers:activity", activity_id=activity.pk)


@capability_required(VIEW)
def hours(request: HttpRequest) -> HttpResponse:
    """Volunteer hours per person and per area (children of the chosen area, default the scope's own)."""
    scope = view_scope(request)
    area_id = request.GET.get("area", "")
    if area_id.isdigit():
        area = area_get(scope=scope, area_id=int(area_id))
    else:
        roots = area_roots(scope=scope)
        if not roots:
            raise Forbidden("您的账号未分配区域。")
        area = roots[0]
    year_text = request.GET.get("year", "")
    year = int(year_text) if year_text.isdigit() and 2000 <= int(year_text) <= 2100 else None
    context = {
        "area": area,
        "year": year,
        "this_year": timezone.localdate(clock.now()).year,
        "by_area": selectors.hours_by_area(scope=scope, area=area, year=year),
        "by_person": selectors.hours_by_person(scope=Scope(area_path=area.path), year=year, limit=50),
        "tab": "hours",
    }
    return render(request, "volunteers/hours.html", context)
