"""Acting on a hotspot: turn it into a proactive case (未诉先办), or dismiss it with a reason.

Both re-detect the hotspot from the actor's scope (a posted token is only a name, never evidence),
write one ``HotspotDecision`` keyed by the hotspot's signature and evidence (unique: a second click,
or a colleague's concurrent one, returns the first decision) and one audit row, atomically.
The proactive case goes through ``cases.services``: submitted on channel ``Channel.PROACTIVE`` at
the evidence's central case, then whistled to the departments of the duty list (事项清单) for its
category and place; without a duty-list entry it waits in the community's queue.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from grassroots.accounts.scopes import can, scope_for
from grassroots.audit.services import actor_of, audit_record
from grassroots.cases import selectors as duty_selectors
from grassroots.cases import services as cases
from grassroots.cases.models import Case, Channel
from grassroots.cases.selectors.cases import acting_roles
from grassroots.cases.workflow import Action, Command, Role
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden
from grassroots.insights import hotspots_engine as engine
from grassroots.insights.models import HotspotDecision, HotspotOutcome
from grassroots.insights.selectors import hotspots as selectors

logger = logging.getLogger(__name__)
MAX_NUMBERS_IN_TEXT = 20


def _check_actor(actor: Any) -> str:
    for capability in selectors.CONVERT_CAPABILITIES:
        if can(actor, capability):
            return capability
    raise Forbidden("只有社区（案件处置）或街道（吹哨派遣）人员可以处理热点。")


def _existing(token: str) -> HotspotDecision | None:
    decision = selectors.decision_for(token)
    if decision is not None and decision.outcome == HotspotOutcome.DISMISSED:
        raise DomainError("该热点已被忽略，不能再转为案件。", code="hotspot_dismissed")
    return decision


def _description(view: selectors.HotspotView, rules: engine.Rules) -> str:
    h = view.hotspot
    numbers = [c.number or f"#{c.pk}" for c in view.evidence]
    shown = "、".join(numbers[:MAX_NUMBERS_IN_TEXT]) + ("等" if len(numbers) > MAX_NUMBERS_IN_TEXT else "")
    if h.kind == "rising":
        what = (
            f"{view.subject_label}近{rules.period_days}天“{view.category.name}”问题{h.count}件，明显多于上期和去年同期"
        )
    else:
        what = f"{view.subject_label}近{rules.window_days}天内“{view.category.name}”问题反复发生{h.count}次"
    return f"【未诉先办】{what}（依据案件：{shown}）。请责任单位主动排查根源、集中处置，防止再次发生。"


def _decision(
    view: selectors.HotspotView, actor: Any, outcome: str, now: datetime, reason: str = ""
) -> HotspotDecision:
    h = view.hotspot
    return HotspotDecision.objects.create(
        key=view.token,
        signature=h.signature,
        kind=h.kind,
        category=view.category,
        subject=h.subject,
        subject_label=view.subject_label[:200],
        path=view.anchor.path,
        evidence=list(h.evidence),
        outcome=outcome,
        reason=reason,
        decided_by=actor,
        decided_at=now,
    )


def hotspot_convert(
    *, actor: Any, token: str, rules: engine.Rules | None = None, now: datetime | None = None
) -> HotspotDecision:
    """Raise one proactive case for the hotspot ``token`` (idempotent: the same hotspot gives the same case)."""
    now = now or clock.now()
    rules = rules or engine.Rules()
    capability = _check_actor(actor)
    existing = _existing(token)
    if existing is not None:
        return existing
    view = selectors.hotspot_get(user=actor, token_=token, now=now, rules=rules)
    scope = scope_for(actor, capability)
    if not scope.covers_path(view.anchor.path):
        raise Forbidden("该热点不在您可以派遣或处置的范围内。")
    roles = [r for r in acting_roles(actor) if r in (Role.community, Role.dispatcher)]
    if not roles:
        raise Forbidden("您的角色不能受理或派遣案件。")
    role = roles[0]
    anchor = view.anchor
    try:
        with transaction.atomic():
            decision = _decision(view, actor, HotspotOutcome.CONVERTED, now)
            submitted = cases.case_submit(
                actor=actor,
                scope=scope,
                channel=Channel.PROACTIVE,
                category=view.category,
                description=_description(view, rules),
                lon=None if anchor.building_id else anchor.lon,
                lat=None if anchor.building_id else anchor.lat,
                building=anchor.building,
                address_text=anchor.address_text,
                now=now,
            )
            case = submitted.case
            duty = duty_selectors.duty_for(category=view.category, area=case.grid)
            if duty.departments:
                case = cases.case_act(
                    actor=actor,
                    role=role,
                    case_id=case.pk,
                    expected_version=Case.objects.get(pk=case.pk).version,
                    command=Command(
                        action=Action.whistle,
                        role=role,
                        departments=tuple(d.pk for d in duty.departments),
                        comment="未诉先办：由历史案件热点主动发起",
                    ),
                    now=now,
                )
            decision.case = case
            decision.save(update_fields=["case"])
            audit_record(
                actor=actor_of(actor),
                action="insights.hotspot_convert",
                object_type="hotspot",
                object_id=decision.pk,
                area_path=decision.path,
                detail={
                    "signature": decision.signature,
                    "evidence": decision.evidence,
                    "case": case.number,
                    "departments": [d.pk for d in duty.departments],
                },
                at=now,
            )
    except IntegrityError:
        # Someone decided the same hotspot between our check and our insert: theirs stands.
        again = _existing(token)
        if again is None:
            raise
        return again
    logger.info("hotspot %s converted to case %s by %s", decision.signature, decision.case_id, actor.pk)
    return decision


def hotspot_dismiss(
    *, actor: Any, token: str, reason: str, rules: engine.Rules | None = None, now: datetime | None = None
) -> HotspotDecision:
    """Dismiss a hotspot with a reason; the same evidence is not offered again."""
    now = now or clock.now()
    _check_actor(actor)
    reason = reason.strip()
    if not reason:
        raise DomainError("请填写忽略理由，例如“已在处置中”或“属偶发情况”。", field="reason")
    if len(reason) > 300:
        raise DomainError("忽略理由不能超过300字。", field="reason")
    existing = selectors.decision_for(token)
    if existing is not None:
        if existing.outcome == HotspotOutcome.DISMISSED:
            return existing
        raise DomainError("该热点已转为案件，不能再忽略。", code="hotspot_converted")
    view = selectors.hotspot_get(user=actor, token_=token, now=now, rules=rules)
    try:
        with transaction.atomic():
            decision = _decision(view, actor, HotspotOutcome.DISMISSED, now, reason)
            audit_record(
                actor=actor_of(actor),
                action="insights.hotspot_dismiss",
                object_type="hotspot",
                object_id=decision.pk,
                area_path=decision.path,
                detail={"signature": decision.signature, "evidence": decision.evidence, "reason": reason},
                at=now,
            )
    except IntegrityError:
        again = selectors.decision_for(token)
        if again is None:
            raise
        return again
    return decision
