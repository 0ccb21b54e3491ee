"""我的消息: the signed-in user's in-app messages; showing a page marks its messages read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from grassroots.notify import selectors, services
from grassroots.notify.models import Notification

PAGE_SIZE = 20
# Where a message leads, by the id its payload carries: residents follow it on the phone pages,
# staff on the working pages. URL names only: notify sits below the apps that send.
LINKS: list[tuple[str, str, str]] = [  # (payload key, resident page, staff page)
    ("case_id", "cases:h5_case", "cases:case"),
    ("topic", "engage:h5_topic", "engage:topic"),
]


def _link(message: Notification, role: str) -> str:
    payload = message.payload if isinstance(message.payload, dict) else {}
    for key, resident_page, staff_page in LINKS:
        target = payload.get(key)
        if isinstance(target, int):
            try:
                return reverse(resident_page if role == "resident" else staff_page, args=[target])
            except NoReverseMatch:  # that app is not installed
                return ""
    return ""


@login_required
def messages_page(request: HttpRequest) -> HttpResponse:
    user_id = request.user.pk
    if user_id is None:  # login_required lets only saved users through; this satisfies the type
        return HttpResponse(status=404)
    page = Paginator(selectors.messages_for(user_id=user_id), PAGE_SIZE).get_page(request.GET.get("page"))
    role = str(getattr(request.user, "role", ""))
    rows = [{"message": m, "unread": m.read_at is None, "link": _link(m, role)} for m in page.object_list]
    services.messages_mark_read(user_id=user_id, ids=[row["message"].pk for row in rows])
    return render(request, "notify/messages.html", {"rows": rows, "page": page, "total": page.paginator.count})
