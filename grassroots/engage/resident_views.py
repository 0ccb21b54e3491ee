"""The resident phone pages: topics of my community (support, comment), propose, a topic with its
history and the review form, and the community's notices.

Thin: ``cases.h5`` first (403), reads through the selectors (another community's topic is 404),
writes through the services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from grassroots.accounts.decorators import capability_required
from grassroots.core.errors import DomainError, Forbidden
from grassroots.core.ratelimit import rate_limit
from grassroots.engage import services
from grassroots.engage.forms import CommentForm, ProposeForm, ReviewForm
from grassroots.engage.models import Comment, Review, TopicPhoto
from grassroots.engage.selectors import engage as reads
from grassroots.engage.selectors.scopes import H5, resident_community
from grassroots.engage.views_common import history
from grassroots.engage.workflow import MAX_PHOTOS, Step, TopicState
from grassroots.places.models import Area, AreaLevel, Building

PAGE_SIZE = 10
h5_required = capability_required(H5, message="只有居民可以使用此页面。")


def _nav(current: str) -> list[dict[str, Any]]:
    return [
        {"label": "议事厅", "url": reverse("engage:h5_topics"), "active": current == "topics"},
        {"label": "我要提议", "url": reverse("engage:h5_propose"), "active": current == "propose"},
        {"label": "社区公告", "url": reverse("engage:h5_notices"), "active": current == "notices"},
    ]


def _community(request: HttpRequest) -> Area:
    community = resident_community(request.user)
    if community is None:
        raise Forbidden("您的账号未登记所在社区，请联系社区工作人员。")
    return community


@h5_required
def h5_topics(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    rows = reads.topics_for(request.user).order_by("-updated_at", "-id")
    state = request.GET.get("state", "")
    if state in TopicState.__members__:
        rows = rows.filter(state=state)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "community": community,
        "page": page,
        "state": state,
        "states": [
            (s.value, s.label)
            for s in (
                TopicState.proposed,
                TopicState.discussing,
                TopicState.acting,
                TopicState.reviewing,
                TopicState.closed,
            )
        ],
        "h5_nav": _nav("topics"),
    }
    return render(request, "engage/h5/topics.html", context)


def _place_choices(community: Area) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    grids = list(Area.objects.grids().filter(path__path_startswith=community.path + ".").values_list("pk", "name"))
    buildings = [
        (b.pk, f"{b.compound.name if b.compound else ''}{b.name}")
        for b in Building.objects.filter(grid__path__path_startswith=community.path + ".")
        .select_related("compound")
        .order_by("grid__path", "name")
    ]
    return grids, buildings


@h5_required
@rate_limit("propose")
def h5_propose(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    grids, buildings = _place_choices(community)
    form = ProposeForm(request.POST or None, grids=grids, buildings=buildings)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        files = [f for f in request.FILES.getlist("photos") if f.size]
        try:
            topic = services.topic_propose(
                actor=request.user,
                title=data["title"],
                description=data["description"],
                area=Area.objects.filter(pk=data["grid"], level=AreaLevel.GRID).first() if data["grid"] else None,
                building=Building.objects.filter(pk=data["building"]).first() if data["building"] else None,
                lon=data["lon"],
                lat=data["lat"],
                place_text=data["place_text"],
                photos=[(f, f.name or "", f.size) for f in files],
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"议题已提出。附议达到{topic.threshold}人后将转入议事。")
            return redirect("engage:h5_topic", topic_id=topic.pk)
    context = {"form": form, "community": community, "max_photos": MAX_PHOTOS, "h5_nav": _nav("propose")}
    return render(request, "engage/h5/propose.html", context, status=400 if form.errors else 200)


@h5_required
def h5_topic(request: HttpRequest, topic_id: int) -> HttpResponse:
    topic = reads.topic_get(user=request.user, topic_id=topic_id)
    user: Any = request.user
    comment_form = CommentForm()
    review_form = ReviewForm()
    status = 200
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "support":
                services.topic_support(actor=user, topic_id=topic.pk)
                messages.success(request, "已附议，感谢您的参与！")
                return redirect("engage:h5_topic", topic_id=topic.pk)
            if op == "withdraw":
                services.topic_step(actor=user, topic_id=topic.pk, step=Step.withdraw)
                messages.success(request, "议题已撤回。")
                return redirect("engage:h5_topic", topic_id=topic.pk)
            if op == "comment":
                comment_form = CommentForm(request.POST)
                if comment_form.is_valid():
                    services.topic_comment(actor=user, topic_id=topic.pk, body=comment_form.cleaned_data["body"])
                    return redirect(reverse("engage:h5_topic", args=[topic.pk]) + "#comments")
            elif op == "review":
                review_form = ReviewForm(request.POST)
                if review_form.is_valid():
                    data = review_form.cleaned_data
                    services.topic_review(actor=user, topic_id=topic.pk, rating=data["rating"], comment=data["comment"])
                    messages.success(request, "感谢您的评议！")
                    return redirect("engage:h5_topic", topic_id=topic.pk)
            else:
                raise DomainError("无效的操作。")
        except DomainError as error:
            if isinstance(error, Forbidden):
                raise
            messages.error(request, error.message)
        status = 400
        topic = reads.topic_get(user=user, topic_id=topic_id)
    mine = Review.objects.filter(topic=topic, user=user).first()
    reviewing = topic.state == TopicState.reviewing.value
    decision = (
        getattr(topic, "decision", None) if topic.state not in (TopicState.proposed, TopicState.discussing) else None
    )
    context = {
        "topic": topic,
        "photos": list(TopicPhoto.objects.filter(topic=topic)),
        "may_support": topic.state == TopicState.proposed.value
        and not getattr(topic, "supported", False)
        and topic.proposer_id != user.pk,
        "may_withdraw": topic.state == TopicState.proposed.value and topic.proposer_id == user.pk,
        "comments": list(Comment.objects.filter(topic=topic).order_by("at", "id")),
        "comment_form": comment_form if topic.state not in ("closed", "dismissed", "withdrawn") else None,
        "review_form": review_form if reviewing and mine is None and services.may_review(user, topic) else None,
        "my_review": mine,
        "decision": decision,
        "actions": reads.topic_actions(topic),
        "history": history(reads.topic_history(topic), user),
        "h5_nav": _nav("topics"),
    }
    return render(request, "engage/h5/topic.html", context, status=status)


@h5_required
def h5_notices(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    page = Paginator(reads.resident_notices(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "engage/h5/notices.html", {"community": community, "page": page, "h5_nav": _nav("notices")})


@h5_required
def h5_notice(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = reads.resident_notice_get(user=request.user, notice_id=notice_id)
    services.notice_read(actor=request.user, notice=notice)
    return render(request, "engage/h5/notice.html", {"notice": notice, "h5_nav": _nav("notices")})
