"""One-tap mobilisation (一键动员, 平战转换): start, fan out, answer through the link, end.

Starting writes the ``Mobilisation`` (and, in emergency mode, switches the area to emergency in
``places``, which ``cases`` reads when it sets deadlines); the fan-out then runs as a background
task in batches. Each batch is one transaction that inserts the batch's ``Recipient`` rows and
one ``notify()`` outbox row per recipient (key ``mob:<mobilisation>:r<recipient>``) and marks
them notified. A fan-out killed mid-way and started again skips the batches that committed and
repeats nothing else: recipient rows are keyed by a token hash derived from the mobilisation and
the person, outbox rows by their idempotency key, so every recipient ends with exactly one of each.

A recipient's link token is ``HMAC(SECRET_KEY, mobilisation id + person key)``: only its SHA-256
is stored, and a restarted fan-out rebuilds the same link. A phone number is unsealed only to be
handed to ``notify`` (which seals it again in the outbox); it is never logged.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils.crypto import salted_hmac

from grassroots.accounts.scopes import can, scope_for
from grassroots.audit.services import Actor, actor_of, audit_record
from grassroots.core import clock, crypto
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.notify.models import ChannelName
from grassroots.notify.services import Recipient as NotifyRecipient
from grassroots.notify.services import notify
from grassroots.places.models import Area, AreaLevel, AreaMode
from grassroots.places.services import area_set_mode
from grassroots.volunteers.models import Audience, Mobilisation, MobilisationMode, Recipient
from grassroots.volunteers.selectors.mobilisation import (
    CAPABILITY,
    Candidate,
    active_emergencies_over,
    recipient_by_token,
    roster_candidates,
    token_hash,
)

logger = logging.getLogger(__name__)

_TOKEN_SALT = "grassroots.volunteers.mobilisation.link"  # noqa: S105 (a salt, not a secret)
NOTIFY_KIND = "volunteers.mobilisation"


def batch_size() -> int:
    return int(getattr(settings, "MOBILISATION_BATCH_SIZE", 500))


def link_token(mobilisation_id: int, key: str) -> str:
    """The secret of one recipient's link, rebuilt identically on every run of the fan-out."""
    digest = salted_hmac(_TOKEN_SALT, f"mob:{mobilisation_id}:{key}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def link_path(token: str) -> str:
    try:
        return reverse("volunteers:mobilisation_link", args=[token])
    except NoReverseMatch:  # the worker's URLconf may not carry the pages
        return f"/volunteers/m/{token}/"


def link_url(token: str) -> str:
    site = str(getattr(settings, "SITE_URL", "") or "").rstrip("/")
    return site + link_path(token)


# --- start ----------------------------------------------------------------------------------


def _check_actor(user: Any, area: Area) -> None:
    if not can(user, CAPABILITY):
        raise Forbidden()
    if not scope_for(user, CAPABILITY).covers_path(area.path):
        raise NotFound()


@transaction.atomic
def mobilisation_start(
    *,
    actor: Any,
    area: Area,
    mode: str,
    audiences: Sequence[str],
    title: str,
    message: str,
    assembly_point: str = "",
    assemble_by: datetime | None = None,
    now: datetime | None = None,
    fan_out: bool = True,
) -> Mobilisation:
    """A leader calls out an area's forces; the fan-out is queued once this commits."""
    _check_actor(actor, area)
    if area.level not in (AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY, AreaLevel.GRID, AreaLevel.DISTRICT):
        raise DomainError("请选择街道、社区或网格发起动员。", field="area")
    if mode not in MobilisationMode.values:
        raise DomainError(f"未知的动员模式“{mode}”。", field="mode")
    chosen = [a for a in Audience.values if a in set(audiences)]
    if not chosen or len(chosen) != len(set(audiences)):
        raise DomainError("请至少选择一类动员对象。", field="audiences")
    title, message = title.strip(), message.strip()
    if not title or len(title) > 100:
        raise DomainError("标题不能为空，且不超过100个字。", field="title")
    if not message:
        raise DomainError("动员内容不能为空。", field="message")
    now = now or clock.now()
    mobilisation = Mobilisation.objects.create(
        area=area,
        path=area.path,
        mode=mode,
        audiences=chosen,
        title=title,
        message=message,
        assembly_point=assembly_point.strip()[:200],
        assemble_by=assemble_by,
        started_by=actor,
        started_at=now,
    )
    who = actor_of(actor)
    audit_record(
        actor=who,
        action="volunteers.mobilisation.start",
        object_type="mobilisation",
        object_id=mobilisation.pk,
        area_path=area.path,
        detail={"mode": mode, "audiences": chosen, "title": title},
        at=now,
    )
    if mode == MobilisationMode.EMERGENCY and area.mode != AreaMode.EMERGENCY:
        area_set_mode(actor=who, area=area, mode=AreaMode.EMERGENCY, reason=f"应急动员：{title}")
    if fan_out:
        transaction.on_commit(lambda: _enqueue_fanout(mobilisation.pk))
    return mobilisation


def _enqueue_fanout(mobilisation_id: int) -> None:
    from grassroots.volunteers.tasks import mobilisation_fanout_task

    try:
        mobilisation_fanout_task.enqueue(mobilisation_id)
    except Exception:  # the mobilisation is committed; `manage.py mobilisation_fanout --pending` picks it up
        logger.exception("could not enqueue the fan-out of mobilisation %s", mobilisation_id)


# --- fan-out --------------------------------------------------------------------------------


@dataclass
class FanoutReport:
    mobilisation_id: int
    candidates: int = 0
    unreachable: int = 0  # no account and no phone: cannot be called
    recipients: int = 0  # recipient rows of the batches this run walked
    notified: int = 0  # recipients marked notified by this run
    batches: int = 0
    already_done: bool = False


def _phone_of(candidate: Candidate) -> str:
    if candidate.phone:
        return candidate.phone
    if candidate.phone_cipher:
        return crypto.decrypt(candidate.phone_cipher, context=candidate.phone_context)
    return ""


def _message_text(mobilisation: Mobilisation, url: str) -> str:
    lines = [mobilisation.message]
    if mobilisation.assembly_point:
        lines.append(f"集合地点：{mobilisation.assembly_point}")
    if mobilisation.assemble_by:
        lines.append(f"集合时间：{clock_local(mobilisation.assemble_by)}")
    lines.append(f"请点击链接确认：{url}")
    return "\n".join(lines)


def clock_local(when: datetime) -> str:
    from django.utils import timezone

    return timezone.localtime(when).strftime("%m-%d %H:%M")


def _fanout_batch(mobilisation: Mobilisation, batch: list[Candidate], now: datetime) -> tuple[int, int]:
    """One transaction: the batch's recipient rows, their outbox rows, marked notified."""
    tokens = {c.key: link_token(mobilisation.pk, c.key) for c in batch}
    hashes = {c.key: token_hash(tokens[c.key]) for c in batch}
    with transaction.atomic():
        rows = [
            Recipient(
                mobilisation=mobilisation,
                person_id=c.person_id,
                user_id=c.user_id,
                name=c.name[:50],
                audience=c.audience,
                grid_id=c.grid_id,
                path=c.path or mobilisation.path,
                token_hash=hashes[c.key],
            )
            for c in batch
        ]
        # A row a previous (killed) run committed, or a concurrent run just wrote, is left alone.
        Recipient.objects.bulk_create(rows, ignore_conflicts=True)
        stored = {
            r.token_hash: r
            for r in Recipient.objects.filter(mobilisation=mobilisation, token_hash__in=list(hashes.values()))
        }
        created = len(stored)
        done: list[int] = []
        subject = f"【{mobilisation.get_mode_display()}】{mobilisation.title}"
        for c in batch:
            recipient = stored.get(hashes[c.key])
            if recipient is None or recipient.notified_at is not None:
                continue
            url = link_url(tokens[c.key])
            if c.user_id is not None:
                to = NotifyRecipient(user_id=c.user_id)
                channel = ChannelName.CONSOLE  # in-app (我的消息)
            else:
                to = NotifyRecipient(address=_phone_of(c))
                channel = ChannelName.SMS
            notify(
                recipients=[to],
                kind=NOTIFY_KIND,
                subject=subject,
                body=_message_text(mobilisation, url),
                idempotency_key=f"mob:{mobilisation.pk}:r{recipient.pk}",
                payload={"url": url, "mobilisation": mobilisation.pk},
                channel=channel,
                area_path=recipient.path,
            )
            done.append(recipient.pk)
        if done:
            Recipient.objects.filter(pk__in=done, notified_at__isnull=True).update(notified_at=now)
    return created, len(done)


def mobilisation_fanout(
    *,
    mobilisation_id: int,
    size: int | None = None,
    now: datetime | None = None,
    after_batch: Callable[[int], None] | None = None,
) -> FanoutReport:
    """Call everyone the mobilisation names, in batches; safe to run again, and after a crash.

    ``after_batch(n)`` is called after the n-th batch commits (progress, tests).
    """
    report = FanoutReport(mobilisation_id=mobilisation_id)
    mobilisation = Mobilisation.objects.select_related("area").filter(pk=mobilisation_id).first()
    if mobilisation is None:
        raise NotFound()
    if mobilisation.fanned_out_at is not None:
        report.already_done = True
        return report
    size = size or batch_size()
    candidates = roster_candidates(mobilisation)
    report.candidates = len(candidates)
    reachable = [c for c in candidates if c.reachable]
    report.unreachable = len(candidates) - len(reachable)
    # Skip what committed before: recipients already notified (their outbox rows exist).
    notified = set(
        Recipient.objects.filter(mobilisation=mobilisation, notified_at__isnull=False).values_list(
            "token_hash", flat=True
        )
    )
    todo = [c for c in reachable if token_hash(link_token(mobilisation.pk, c.key)) not in notified]
    for start in range(0, len(todo), size):
        batch = todo[start : start + size]
        created, done = _fanout_batch(mobilisation, batch, now or clock.now())
        report.recipients += created
        report.notified += done
        report.batches += 1
        if after_batch is not None:
            after_batch(report.batches)
    with transaction.atomic():
        finished = Mobilisation.objects.filter(pk=mobilisation.pk, fanned_out_at__isnull=True).update(
            fanned_out_at=clock.now()
        )
        if finished:
            audit_record(
                actor=Actor(id=None, label="task:mobilisation_fanout"),
                action="volunteers.mobilisation.fanned_out",
                object_type="mobilisation",
                object_id=mobilisation.pk,
                area_path=mobilisation.path,
                detail={
                    "recipients": Recipient.objects.filter(mobilisation=mobilisation).count(),
                    "unreachable": report.unreachable,
                },
            )
    logger.info(
        "mobilisation %s fan-out: candidates=%d unreachable=%d notified=%d batches=%d",
        mobilisation.pk,
        report.candidates,
        report.unreachable,
        report.notified,
        report.batches,
    )
    return report


# --- answering through the link -------------------------------------------------------------


class Answer:
    ACKNOWLEDGE = "acknowledge"
    DECLINE = "decline"
    ARRIVE = "arrive"
    ALL = (ACKNOWLEDGE, DECLINE, ARRIVE)


@transaction.atomic
def recipient_answer(*, token: str, answer: str, reason: str = "", now: datetime | None = None) -> Recipient:
    """收到 / 无法参加 / 已到达 through the link (the token is the credential). Repeats change nothing."""
    if answer not in Answer.ALL:
        raise DomainError("未知的操作。")
    found = recipient_by_token(token)
    recipient = Recipient.objects.select_for_update().select_related("mobilisation").get(pk=found.pk)
    if recipient.mobilisation.ended_at is not None:
        raise DomainError("本次动员已结束，无需再回复。", code="ended")
    now = now or clock.now()
    changes: dict[str, Any] = {}
    if answer == Answer.ACKNOWLEDGE:
        if recipient.acknowledged_at is None or recipient.declined:
            changes = {"acknowledged_at": recipient.acknowledged_at or now, "declined": False}
    elif answer == Answer.DECLINE:
        if recipient.arrived_at is not None:
            raise DomainError("您已报到到达，无法再选择“无法参加”。", code="arrived")
        if not recipient.declined:
            changes = {"declined": True}
    elif recipient.arrived_at is None:
        changes = {"arrived_at": now, "declined": False, "acknowledged_at": recipient.acknowledged_at or now}
    if not changes:
        return recipient
    for name, value in changes.items():
        setattr(recipient, name, value)
    recipient.save(update_fields=list(changes))
    detail: dict[str, Any] = {"answer": answer}
    if answer == Answer.DECLINE and reason.strip():
        detail["reason"] = reason.strip()[:200]
    audit_record(
        actor=Actor(id=None, label=f"link:recipient:{recipient.pk}"),
        action=f"volunteers.mobilisation.{answer}",
        object_type="mobilisation_recipient",
        object_id=recipient.pk,
        area_path=recipient.path,
        detail=detail,
        at=now,
    )
    return recipient


# --- end ------------------------------------------------------------------------------------


@transaction.atomic
def mobilisation_end(*, actor: Any, mobilisation: Mobilisation, now: datetime | None = None) -> Mobilisation:
    """End a mobilisation; an emergency one returns its area to normal unless another emergency covers it."""
    _check_actor(actor, mobilisation.area)
    now = now or clock.now()
    ended = Mobilisation.objects.filter(pk=mobilisation.pk, ended_at__isnull=True).update(ended_at=now)
    mobilisation.refresh_from_db()
    if not ended:
        return mobilisation
    who = actor_of(actor)
    audit_record(
        actor=who,
        action="volunteers.mobilisation.end",
        object_type="mobilisation",
        object_id=mobilisation.pk,
        area_path=mobilisation.path,
        at=now,
    )
    if mobilisation.mode == MobilisationMode.EMERGENCY:
        _restore_mode(who, mobilisation)
    return mobilisation


def _restore_mode(who: Actor, mobilisation: Mobilisation) -> None:
    area = Area.objects.get(pk=mobilisation.area_id)
    others = active_emergencies_over(area, exclude_id=mobilisation.pk)
    covering = [m for m in others if area.path == m.path or area.path.startswith(m.path + ".")]
    if covering:
        return  # an emergency at this area or above is still on
    if area.mode == AreaMode.EMERGENCY:
        area_set_mode(actor=who, area=area, mode=AreaMode.NORMAL, reason=f"应急动员结束：{mobilisation.title}")
    for other in others:  # emergencies below keep their parts of the tree in emergency mode
        below = Area.objects.get(pk=other.area_id)
        if below.mode != AreaMode.EMERGENCY:
            area_set_mode(actor=who, area=below, mode=AreaMode.EMERGENCY, reason=f"应急动员：{other.title}")
