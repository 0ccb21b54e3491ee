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
# Where a message about a case leads: residents follow it on the phone pages, staff on the case page.
CASE_PAGES = {"resident": "cases:h5_case"}
CASE_PAGE_STAFF = "cases:case"


def _link(message: Notification, role: str) -> str:
    case_id = message.payload.get("case_id") if isinstance(message.payload, dict) else None
    if not isinstance(case_id, int):
        return ""
    try:
        return reverse(CASE_PAGES.get(role, CASE_PAGE_STAFF), args=[case_id])
    except NoReverseMatch:  # the cases app is not installed
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
