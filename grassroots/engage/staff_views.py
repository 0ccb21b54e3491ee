"""Staff pages of deliberation and notices: the topics queue, a topic with its actions, meetings
(agenda, invitees, attendance, minutes, decisions with votes), the area settings and notices.

``engage.view`` reads and ``engage.manage`` runs deliberation; the capability is checked first
(403), anything outside the user's scope is 404 (the selectors and services say NotFound).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from grassroots.accounts.decorators import capability_required
from grassroots.accounts.scopes import can, scope_for
from grassroots.cases.models import Category
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.engage import services
from grassroots.engage.forms import (
    ActionForm,
    DecisionForm,
    InviteeForm,
    MeetingForm,
    MinutesForm,
    NoticeForm,
    ProgressForm,
    ReasonForm,
    SettingForm,
    StaffProposeForm,
)
from grassroots.engage.models import AgendaItem, Comment, DeliberationSetting, NoticeState, TopicPhoto
from grassroots.engage.selectors import engage as reads
from grassroots.engage.selectors.scopes import PROPOSE, READ, RUN, run_scope
from grassroots.engage.views_common import history
from grassroots.engage.workflow import MAX_PHOTOS, Step, TopicState
from grassroots.places.models import Area, AreaLevel, Building
from grassroots.volunteers.models import Project

PER_PAGE = 20
read_required = capability_required(READ, RUN, message="您的角色无权查看协商议事。")
run_required = capability_required(RUN, message="只有社区工作者可以组织协商议事。")
propose_required = capability_required(PROPOSE, message="您的角色不能提出议题。")
# Buildings are offered in the form only when the scope is small enough for one list (a community or a few).
MAX_BUILDING_CHOICES = 600
TABS = [
    (
        "open",
        "进行中",
        [TopicState.proposed, TopicState.discussing, TopicState.decided, TopicState.acting, TopicState.reviewing],
    ),
    *[(s.value, s.label, [s]) for s in TopicState],
]


def _areas(user: Any) -> list[tuple[int, str]]:
    """Communities and grids the user runs deliberation in."""
    rows = Area.objects.active().filter(run_scope(user).path_q("path"), level__in=[AreaLevel.COMMUNITY, AreaLevel.GRID])
    return [(a.pk, a.name if a.level == AreaLevel.COMMUNITY else f"　{a.name}") for a in rows.order_by("path")]


def _area(user: Any, area_id: int) -> Area:
    area = Area.objects.filter(run_scope(user).path_q("path"), pk=area_id).first()
    if area is None:
        raise NotFound()
    return area


def _error(request: HttpRequest, form: Any, error: DomainError) -> None:
    if isinstance(error, (Forbidden, NotFound)):
        raise error
    if form is not None and error.field in getattr(form, "fields", {}):
        form.add_error(error.field, error.message)
    else:
        messages.error(request, error.message)


# --- topics ----------------------------------------------------------------------------------


@read_required
def topics(request: HttpRequest) -> HttpResponse:
    base = reads.topics_for(request.user)
    counts = base.aggregate(**{key: Count("pk", filter=Q(state__in=states)) for key, _, states in TABS})
    chosen = next((t for t in TABS if t[0] == request.GET.get("tab")), TABS[0])
    rows = base.filter(state__in=chosen[2]).order_by("-support_count", "-updated_at", "-id")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    context = {"tabs": [(k, label, counts[k]) for k, label, _ in TABS], "chosen": chosen[0], "page": page}
    return render(request, "engage/staff/topics.html", context)


def _propose_choices(user: Any) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    scope = scope_for(user, PROPOSE)
    areas = (
        Area.objects.active()
        .filter(scope.path_q("path"), level__in=[AreaLevel.COMMUNITY, AreaLevel.GRID])
        .order_by("path")
    )
    choices = [(a.pk, a.name if a.level == AreaLevel.COMMUNITY else f"　{a.name}") for a in areas]
    rows = Building.objects.filter(scope.path_q("grid__path")).select_related("compound", "grid")
    if rows.count() > MAX_BUILDING_CHOICES:
        return choices, []
    buildings = [
        (b.pk, f"{b.grid.name} · {b.compound.name if b.compound else ''}{b.name}")
        for b in rows.order_by("grid__path", "compound__name", "name")
    ]
    return choices, buildings


@propose_required
def topic_new(request: HttpRequest) -> HttpResponse:
    """A grid or community worker raises a topic found on patrol or in a visit (工作人员提事)."""
    user: Any = request.user
    areas, buildings = _propose_choices(user)
    form = StaffProposeForm(request.POST or None, grids=areas, buildings=buildings)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        scope = scope_for(user, PROPOSE)
        area = Area.objects.filter(scope.path_q("path"), pk=data["grid"]).first()
        building = (
            Building.objects.filter(scope.path_q("grid__path"), pk=data["building"]).first()
            if data["building"]
            else None
        )
        files = [f for f in request.FILES.getlist("photos") if f.size]
        try:
            item = services.topic_propose(
                actor=user,
                title=data["title"],
                description=data["description"],
                area=area,
                building=building,
                place_text=data["place_text"],
                photos=[(f, f.name or "", f.size) for f in files],
            )
        except DomainError as error:
            _error(request, form, error)
        else:
            messages.success(request, f"议题已提出。附议达到{item.threshold}人后转入议事，也可以直接转入议事。")
            return redirect("engage:topic", topic_id=item.pk)
    context = {"form": form, "max_photos": MAX_PHOTOS, "has_buildings": bool(buildings)}
    return render(request, "engage/staff/propose.html", context, status=400 if form.errors else 200)


def _action_form(user: Any, data: Any = None) -> ActionForm:
    categories = list(Category.objects.filter(is_active=True, parent__isnull=False).values_list("pk", "name"))
    categories = categories or list(Category.objects.filter(is_active=True).values_list("pk", "name"))
    projects = list(
        Project.objects.filter(scope_for(user, "volunteers.view").path_q("path"), done_at__isnull=True).values_list(
            "pk", "title"
        )
    )
    return ActionForm(data, categories=categories, projects=projects)


@read_required
def topic(request: HttpRequest, topic_id: int) -> HttpResponse:
    user: Any = request.user
    item = reads.topic_get(user=user, topic_id=topic_id)
    runs = can(user, RUN) and run_scope(user).covers_path(item.path)
    reason_form, action_form = ReasonForm(), _action_form(user)
    status = 200
    if request.method == "POST":
        if not runs:
            raise Forbidden("只有本社区的工作人员可以办理议题。")
        op = request.POST.get("op", "")
        form: Any = None
        try:
            if op in (Step.to_discussion.value, Step.dismiss.value):
                form = reason_form = ReasonForm(request.POST)
                if form.is_valid():
                    services.topic_step(actor=user, topic_id=item.pk, step=Step(op), reason=form.cleaned_data["reason"])
                    return redirect("engage:topic", topic_id=item.pk)
            elif op == "action":
                form = action_form = _action_form(user, request.POST)
                if form.is_valid():
                    d = form.cleaned_data
                    services.action_add(
                        actor=user,
                        topic_id=item.pk,
                        title=d["title"],
                        owner=d["owner"],
                        deadline=d["deadline"],
                        kind=d["kind"],
                        category=Category.objects.filter(pk=d["category"]).first() if d["category"] else None,
                        project=Project.objects.filter(pk=d["project"]).first() if d["project"] else None,
                    )
                    messages.success(request, "已添加办理事项。")
                    return redirect("engage:topic", topic_id=item.pk)
            elif op == "progress":
                form = ProgressForm(request.POST)
                action_id = int(request.POST.get("action", "0") or 0)
                if form.is_valid():
                    services.action_update(
                        actor=user,
                        action_id=action_id,
                        progress=form.cleaned_data["progress"],
                        note=form.cleaned_data["note"],
                    )
                    return redirect("engage:topic", topic_id=item.pk)
                messages.error(request, "进度应为 0 到 100 的整数。")
            elif op == "close":
                services.topic_close(actor=user, topic_id=item.pk)
                return redirect("engage:topic", topic_id=item.pk)
            elif op == "comment":
                services.topic_comment(actor=user, topic_id=item.pk, body=request.POST.get("body", ""))
                return redirect("engage:topic", topic_id=item.pk)
            else:
                raise DomainError("无效的操作。")
        except DomainError as error:
            _error(request, form, error)
        status = 400
        item = reads.topic_get(user=user, topic_id=topic_id)
    state = TopicState(item.state)
    context = {
        "topic": item,
        "runs": runs,
        "may_move": runs and state in (TopicState.proposed, TopicState.discussing),
        "may_act": runs and state in (TopicState.decided, TopicState.acting),
        "may_close": runs and state is TopicState.reviewing,
        "reason_form": reason_form,
        "action_form": action_form,
        "decision": getattr(item, "decision", None),
        "actions": reads.topic_actions(item),
        "photos": list(TopicPhoto.objects.filter(topic=item)),
        "comments": list(Comment.objects.filter(topic=item).order_by("at", "id")),
        "reviews": list(item.reviews.order_by("at")),
        "meetings": list(AgendaItem.objects.filter(topic=item).select_related("meeting")),
        "history": history(reads.topic_history(item), user),
    }
    return render(request, "engage/staff/topic.html", context, status=status)


# --- settings --------------------------------------------------------------------------------


@run_required
def settings_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = SettingForm(request.POST or None, areas=_areas(user))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.setting_save(
                actor=user,
                area=_area(user, d["area"]),
                support_threshold=d["support_threshold"],
                review_days=d["review_days"],
            )
        except DomainError as error:
            _error(request, form, error)
        else:
            messages.success(request, "议事设置已保存。")
            return redirect("engage:settings")
    rows = DeliberationSetting.objects.filter(run_scope(user).path_q("path")).select_related("area")
    return render(
        request, "engage/staff/settings.html", {"form": form, "rows": rows}, status=400 if form.errors else 200
    )


# --- meetings --------------------------------------------------------------------------------


@read_required
def meetings(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    runs = can(user, RUN)
    form = MeetingForm(request.POST or None, areas=_areas(user)) if runs else None
    if request.method == "POST":
        if form is None:
            raise Forbidden("只有社区工作者可以召开议事会议。")
        if form.is_valid():
            d = form.cleaned_data
            try:
                meeting = services.meeting_create(
                    actor=user,
                    area=_area(user, d["area"]),
                    kind=d["kind"],
                    title=d["title"],
                    starts_at=d["starts_at"],
                    place=d["place"],
                )
            except DomainError as error:
                _error(request, form, error)
            else:
                return redirect("engage:meeting", meeting_id=meeting.pk)
    rows = reads.meetings_for(user).annotate(topic_count=Count("agenda", distinct=True)).order_by("-starts_at", "-id")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request, "engage/staff/meetings.html", {"form": form, "page": page}, status=400 if form and form.errors else 200
    )


@read_required
def meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    user: Any = request.user
    item = reads.meeting_get(user=user, meeting_id=meeting_id)
    runs = can(user, RUN) and run_scope(user).covers_path(item.path)
    agenda = list(AgendaItem.objects.filter(meeting=item).select_related("topic"))
    undecided = [(a.topic.pk, a.topic.title) for a in agenda if a.topic.state == TopicState.discussing.value]
    invitee_form, minutes_form = InviteeForm(), MinutesForm(initial={"minutes": item.minutes})
    decision_form = DecisionForm(topics=undecided)
    status = 200
    if request.method == "POST":
        if not runs:
            raise Forbidden("只有本社区的工作人员可以记录会议。")
        op = request.POST.get("op", "")
        form: Any = None
        try:
            if op == "agenda":
                services.agenda_add(actor=user, meeting_id=item.pk, topic_id=int(request.POST.get("topic") or 0))
                return redirect("engage:meeting", meeting_id=item.pk)
            if op == "invitee":
                form = invitee_form = InviteeForm(request.POST)
                if form.is_valid():
                    services.invitee_add(actor=user, meeting_id=item.pk, **form.cleaned_data)
                    return redirect("engage:meeting", meeting_id=item.pk)
            elif op == "attendance":
                present = [int(p) for p in request.POST.getlist("present") if p.isdigit()]
                services.attendance_record(actor=user, meeting_id=item.pk, present=present)
                messages.success(request, f"已记录到会 {len(present)} 人。")
                return redirect("engage:meeting", meeting_id=item.pk)
            elif op == "minutes":
                form = minutes_form = MinutesForm(request.POST)
                if form.is_valid():
                    services.minutes_save(actor=user, meeting_id=item.pk, minutes=form.cleaned_data["minutes"])
                    messages.success(request, "会议纪要已保存。")
                    return redirect("engage:meeting", meeting_id=item.pk)
            elif op == "decision":
                form = decision_form = DecisionForm(request.POST, topics=undecided)
                if form.is_valid():
                    d = form.cleaned_data
                    decision = services.decision_record(
                        actor=user,
                        meeting_id=item.pk,
                        topic_id=d["topic"],
                        content=d["content"],
                        votes_for=d["votes_for"],
                        votes_against=d["votes_against"],
                        votes_abstain=d["votes_abstain"],
                    )
                    messages.success(
                        request, "表决通过，请添加办理事项。" if decision.adopted else "表决未通过，议题已结束。"
                    )
                    return redirect("engage:topic", topic_id=decision.topic_id)
            else:
                raise DomainError("无效的操作。")
        except DomainError as error:
            if error.field == "votes":
                error.field = None
            _error(request, form, error)
        status = 400
    candidates = []
    if runs:
        on_agenda = {a.topic_id for a in agenda}
        candidates = [
            t
            for t in reads.topics_for(user).filter(state=TopicState.discussing.value).order_by("-support_count")[:50]
            if t.pk not in on_agenda
        ]
    context = {
        "meeting": item,
        "runs": runs,
        "agenda": agenda,
        "candidates": candidates,
        "invitees": list(item.invitees.select_related("user")),
        "decisions": list(item.decisions.select_related("topic")),
        "invitee_form": invitee_form,
        "minutes_form": minutes_form,
        "decision_form": decision_form if undecided else None,
    }
    return render(request, "engage/staff/meeting.html", context, status=status)


# --- notices ---------------------------------------------------------------------------------


@read_required
def notices(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    runs = can(user, RUN)
    form = NoticeForm(request.POST or None, areas=_areas(user)) if runs else None
    if request.method == "POST":
        if form is None:
            raise Forbidden("只有社区工作者可以发布公告。")
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.notice_save(
                    actor=user,
                    area=_area(user, d.pop("area")),
                    publish=request.POST.get("publish") == "1",
                    **d,
                )
            except DomainError as error:
                _error(request, form, error)
            else:
                messages.success(request, "公告已保存。")
                return redirect("engage:notices")
    rows = reads.staff_notices(user).order_by("-pinned", "-created_at", "-id")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request, "engage/staff/notices.html", {"form": form, "page": page}, status=400 if form and form.errors else 200
    )


@run_required
def notice(request: HttpRequest, notice_id: int) -> HttpResponse:
    user: Any = request.user
    item = reads.staff_notice_get(user=user, notice_id=notice_id)
    if not run_scope(user).covers_path(item.path):
        raise NotFound()
    initial = {
        "area": item.area_id, "kind": item.kind, "audience": item.audience, "title": item.title, "body": item.body,
        "pinned": item.pinned, "expires_at": item.expires_at,
    }  # fmt: skip
    form = NoticeForm(request.POST or None, areas=_areas(user), initial=initial)
    if request.method == "POST":
        op = request.POST.get("op", "save")
        try:
            if op == "publish":
                services.notice_publish(actor=user, notice_id=item.pk)
                return redirect("engage:notices")
            if op == "withdraw":
                services.notice_withdraw(actor=user, notice_id=item.pk)
                return redirect("engage:notices")
            if form.is_valid():
                d = form.cleaned_data
                services.notice_save(actor=user, area=_area(user, d.pop("area")), notice_id=item.pk, **d)
                messages.success(request, "公告已保存。")
                return redirect("engage:notices")
        except DomainError as error:
            _error(request, form, error)
    context = {"notice": item, "form": form, "published": item.state == NoticeState.PUBLISHED}
    return render(request, "engage/staff/notice.html", context, status=400 if request.method == "POST" else 200)
