"""Pages of one-tap mobilisation: the leader's start form, live roster and drills; the recipient's link.

The link page needs no login (the token in the URL is the credential) and is built for a phone.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from grassroots.accounts.scopes import can
from grassroots.core.errors import DomainError, Forbidden
from grassroots.volunteers.mobilisation_forms import DeclineForm, MobilisationStartForm
from grassroots.volunteers.models import Audience, MobilisationMode
from grassroots.volunteers.selectors import mobilisation as selectors
from grassroots.volunteers.services import mobilisation as services

ROSTER_POLL_SECONDS = 5


def _require(request: HttpRequest) -> Any:
    user: Any = request.user
    if not can(user, selectors.CAPABILITY):
        raise Forbidden()
    return user


@login_required
def mobilisation_index(request: HttpRequest) -> HttpResponse:
    user = _require(request)
    rows = selectors.mobilisations_for(user=user)
    return render(request, "volunteers/mobilisation/index.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def mobilisation_start(request: HttpRequest) -> HttpResponseBase:
    user = _require(request)
    areas = selectors.mobilisable_areas(user=user)
    form = MobilisationStartForm(request.POST or None, areas=areas)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            mobilisation = services.mobilisation_start(
                actor=user,
                area=data["area"],
                mode=data["mode"],
                audiences=data["audiences"],
                title=data["title"],
                message=data["message"],
                assembly_point=data["assembly_point"],
                assemble_by=data["assemble_by"],
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, "动员已发起，正在通知相关人员。")
            return redirect("volunteers:mobilisation_detail", mobilisation.pk)
    return render(request, "volunteers/mobilisation/start.html", {"form": form})


def _roster_context(mobilisation: Any) -> dict[str, Any]:
    return {
        "mobilisation": mobilisation,
        "roster": selectors.roster(mobilisation),
        "poll_seconds": ROSTER_POLL_SECONDS,
        "live": mobilisation.ended_at is None,
    }


@login_required
def mobilisation_detail(request: HttpRequest, mobilisation_id: int) -> HttpResponse:
    user = _require(request)
    mobilisation = selectors.mobilisation_get(user=user, mobilisation_id=mobilisation_id)
    context = _roster_context(mobilisation)
    labels = dict(Audience.choices)
    context["audience_labels"] = [labels.get(a, a) for a in mobilisation.audiences]
    if mobilisation.mode == MobilisationMode.DRILL:
        context["drill"] = selectors.response_figures(mobilisation)
    return render(request, "volunteers/mobilisation/detail.html", context)


@login_required
def mobilisation_roster(request: HttpRequest, mobilisation_id: int) -> HttpResponse:
    """The roster fragment htmx polls every few seconds."""
    user = _require(request)
    mobilisation = selectors.mobilisation_get(user=user, mobilisation_id=mobilisation_id)
    return render(request, "volunteers/mobilisation/_roster.html", _roster_context(mobilisation))


@login_required
@require_POST
def mobilisation_end(request: HttpRequest, mobilisation_id: int) -> HttpResponse:
    user = _require(request)
    mobilisation = selectors.mobilisation_get(user=user, mobilisation_id=mobilisation_id)
    services.mobilisation_end(actor=user, mobilisation=mobilisation)
    messages.success(request, "动员已结束。")
    return redirect("volunteers:mobilisation_detail", mobilisation.pk)


@login_required
def mobilisation_drills(request: HttpRequest) -> HttpResponse:
    user = _require(request)
    return render(request, "volunteers/mobilisation/drills.html", {"drills": selectors.drills_for(user=user)})


@require_http_methods(["GET", "POST"])
def mobilisation_link(request: HttpRequest, token: str) -> HttpResponse:
    """The recipient's page: 收到，马上到 / 无法参加 / 已到达. Unknown token → 404."""
    recipient = selectors.recipient_by_token(token)
    error = ""
    if request.method == "POST":
        answer = request.POST.get("answer", "")
        form = DeclineForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        try:
            recipient = services.recipient_answer(token=token, answer=answer, reason=reason)
        except DomainError as failure:
            error = failure.message
        else:
            return redirect(request.path)
    mobilisation = recipient.mobilisation
    context = {
        "recipient": recipient,
        "mobilisation": mobilisation,
        "ended": mobilisation.ended_at is not None,
        "error": error,
        "decline_form": DeclineForm(),
    }
    response = render(request, "volunteers/mobilisation/link.html", context, status=400 if error else 200)
    response["Referrer-Policy"] = "same-origin"  # the token is in the URL: never sent to another site
    response["Cache-Control"] = "no-store"
    return response
