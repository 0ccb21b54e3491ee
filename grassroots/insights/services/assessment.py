"""Writes of the monthly assessment: weights (街道), ratings (社区), closing a month (街道).

Each is atomic and audited. Weights are whole percents: the five department weights sum to 100,
the two partner-unit weights sum to 100, each between 0 and 100. Ratings are 0–100, one per
community, target and month, editable until the subdistrict closes the month.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction

from grassroots.accounts.scopes import can, scope_for
from grassroots.audit.services import actor_of, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.insights.models import AssessmentMonth, AssessmentRating, AssessmentWeights, TargetKind
from grassroots.insights.selectors import assessment as selectors
from grassroots.places.models import Area, AreaLevel
from grassroots.registry.models import Unit

LABELS = dict((*selectors.DEPARTMENT_PARTS, *selectors.UNIT_PARTS))
LABELS["unit_rating"] = "共建单位社区评分"


def weights_problems(values: Mapping[str, Any]) -> list[str]:
    """What is wrong with a set of weights, in Chinese (empty when valid)."""
    problems = []
    clean: dict[str, int] = {}
    for key in (*selectors.DEFAULT_WEIGHTS, *selectors.DEFAULT_UNIT_WEIGHTS):
        value = values.get(key)
        if value is None or value == "":
            problems.append(f"请填写“{LABELS[key]}”的权重。")
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            problems.append(f"“{LABELS[key]}”的权重必须是整数。")
            continue
        if str(value).strip() != str(number) and not isinstance(value, int):
            problems.append(f"“{LABELS[key]}”的权重必须是整数。")
            continue
        if not 0 <= number <= 100:
            problems.append(f"“{LABELS[key]}”的权重必须在0到100之间，当前为{number}。")
            continue
        clean[key] = number
    if problems:
        return problems
    department = sum(clean[k] for k in selectors.DEFAULT_WEIGHTS)
    if department != 100:
        problems.append(f"职能部门的五项权重之和必须为100，当前为{department}。")
    unit = sum(clean[k] for k in selectors.DEFAULT_UNIT_WEIGHTS)
    if unit != 100:
        problems.append(f"共建单位的两项权重之和必须为100，当前为{unit}。")
    return problems


def _require_dispatch(actor: Any, subdistrict: Area) -> None:
    if not can(actor, "insights.assess"):
        raise Forbidden("只有街道人员可以设置考核权重或关闭考核月份。")
    if subdistrict.level != AreaLevel.SUBDISTRICT or not scope_for(actor, "insights.assess").covers_path(
        subdistrict.path
    ):
        raise NotFound()


def weights_save(*, actor: Any, subdistrict: Area, values: Mapping[str, Any]) -> AssessmentWeights:
    _require_dispatch(actor, subdistrict)
    problems = weights_problems(values)
    if problems:
        raise DomainError("；".join(problems), code="weights_invalid")
    now = clock.now()
    fields = {k: int(values[k]) for k in (*selectors.DEFAULT_WEIGHTS, *selectors.DEFAULT_UNIT_WEIGHTS)}
    with transaction.atomic():
        row, _ = AssessmentWeights.objects.update_or_create(
            subdistrict=subdistrict,
            defaults={**fields, "path": subdistrict.path, "updated_by": actor, "updated_at": now},
        )
        audit_record(
            actor=actor_of(actor),
            action="insights.assessment_weights",
            object_type="area",
            object_id=subdistrict.pk,
            area_path=subdistrict.path,
            detail=fields,
            at=now,
        )
    return row


def rating_save(
    *,
    actor: Any,
    community: Area,
    month: date,
    target_kind: str,
    target_id: int,
    score: int,
    comment: str = "",
) -> AssessmentRating:
    """One community's rating of a department or partner unit for ``month`` (created or changed)."""
    if not can(actor, "insights.rate"):
        raise Forbidden("只有社区人员可以给部门和共建单位评分。")
    if community.level != AreaLevel.COMMUNITY or not scope_for(actor, "insights.rate").covers_path(community.path):
        raise NotFound()
    month = selectors.month_start(month)
    now = clock.now()
    if month > selectors.month_start(clock.today()):
        raise DomainError("不能给尚未开始的月份评分。", field="month")
    subdistrict = selectors.subdistrict_of(community)
    if subdistrict is not None and selectors.is_closed(subdistrict, month):
        raise DomainError(f"{month:%Y年%m月}的考核已由街道关闭，评分不能再修改。", code="month_closed")
    if not isinstance(score, int) or not 0 <= score <= 100:
        raise DomainError("评分必须是0到100之间的整数。", field="score")
    comment = comment.strip()
    if len(comment) > 500:
        raise DomainError("评语不能超过500字。", field="comment")
    if target_kind == TargetKind.DEPARTMENT:
        allowed = {d.pk: d for d in selectors.departments_for(community)}
        target = {"department": allowed.get(target_id), "unit": None}
    elif target_kind == TargetKind.UNIT:
        units: dict[int, Unit] = {u.pk: u for u in selectors.partner_units_for(community, month)}
        target = {"department": None, "unit": units.get(target_id)}  # type: ignore[dict-item]
    else:
        raise DomainError("未知的评分对象类型。", field="target_kind")
    if target["department"] is None and target["unit"] is None:
        raise DomainError("该部门或单位不是本社区本月的评分对象。", field="target")
    key = {"department": target["department"]} if target_kind == TargetKind.DEPARTMENT else {"unit": target["unit"]}
    with transaction.atomic():
        row, created = AssessmentRating.objects.update_or_create(
            month=month,
            community=community,
            **key,  # type: ignore[arg-type]
            defaults={
                "path": community.path,
                "target_kind": target_kind,
                "score": score,
                "comment": comment,
                "rated_by": actor,
                "rated_at": now,
            },
        )
        audit_record(
            actor=actor_of(actor),
            action="insights.assessment_rate",
            object_type="assessment_rating",
            object_id=row.pk,
            area_path=community.path,
            detail={
                "month": month.isoformat(),
                "kind": target_kind,
                "target": target_id,
                "score": score,
                "new": created,
            },
            at=now,
        )
    return row


def month_close(*, actor: Any, subdistrict: Area, month: date) -> AssessmentMonth:
    """Close ``month`` for the subdistrict's ratings (idempotent)."""
    _require_dispatch(actor, subdistrict)
    month = selectors.month_start(month)
    if month > selectors.month_start(clock.today()):
        raise DomainError("不能关闭尚未开始的月份。", field="month")
    now = clock.now()
    with transaction.atomic():
        row, created = AssessmentMonth.objects.get_or_create(
            subdistrict=subdistrict,
            month=month,
            defaults={"path": subdistrict.path, "closed_by": actor, "closed_at": now},
        )
        if created:
            audit_record(
                actor=actor_of(actor),
                action="insights.assessment_close",
                object_type="area",
                object_id=subdistrict.pk,
                area_path=subdistrict.path,
                detail={"month": month.isoformat()},
                at=now,
            )
    return row


__all__ = ["month_close", "rating_save", "weights_problems", "weights_save"]
