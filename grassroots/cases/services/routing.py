"""Writes of smart dispatch: training a model, and recording what a worker chose against the suggestions.

``routing_train`` learns from the closed cases (and the recorded choices of cases still open) of
an area or of the whole platform, measures itself and the keyword fallback on the latest cases
held out in time, then fits again on everything and stores the model as a new version.
``case_route`` is how the case page accepts or whistles a case with suggestions on screen: in
one transaction it changes the category if the worker picked another, applies the step through
``case_act`` and records the choice, which the next training learns from.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Max

from grassroots.audit.services import SYSTEM, actor_of, audit_record
from grassroots.cases.models import Case, CaseEvent, Category, RoutingChoice, RoutingModel
from grassroots.cases.routing import MIN_SAMPLES, Router, TooLittleHistory, evaluate, split_by_time
from grassroots.cases.routing.engine import digest
from grassroots.cases.selectors.cases import may_act, visible_q
from grassroots.cases.selectors.routing import Suggestion, _duty, keyword_router, training_samples
from grassroots.cases.services.cases import Conflict, case_act
from grassroots.cases.workflow import Action, CaseState, Command, Role
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Area

logger = logging.getLogger(__name__)

ROUTED_ACTIONS = (Action.accept, Action.whistle, Action.re_dispatch)
TEST_SHARE = 0.2
# States in which the category may still change: before any department works on the case.
RECLASSIFIABLE = {s.value for s in (CaseState.submitted, CaseState.accepted, CaseState.rejected, CaseState.reopened)}


class TooLittleHistoryError(DomainError):
    code = "too_little_history"


# --- training ----------------------------------------------------------------------------------


def routing_train(
    *,
    actor: Any,
    area: Area | None = None,
    min_samples: int = MIN_SAMPLES,
    test_share: float = TEST_SHARE,
    now: datetime | None = None,
) -> RoutingModel:
    """Train and store a new model version for ``area`` (None: the whole platform).

    Raises ``TooLittleHistoryError`` (and stores nothing) when there are too few labelled cases:
    the keyword fallback keeps answering.
    """
    now = now or clock.now()
    path = area.path if area is not None else ""
    scope = Scope(area_path=path)
    data = training_samples(scope=scope)
    samples = data.samples
    learn, held_out = split_by_time(samples, test_share)
    try:
        started = time.perf_counter()
        trial = Router.train(learn, min_samples=max(1, int(min_samples * (1 - test_share))))
        router = Router.train(samples, min_samples=min_samples)
        seconds = time.perf_counter() - started
    except TooLittleHistory as error:
        logger.info("routing training skipped for %r: %s", path or "all", error)
        raise TooLittleHistoryError(
            f"可用于学习的已结案件太少（{len(samples)} 件，至少需要 {min_samples} 件），暂按事项清单关键词推荐。"
        ) from error
    grids = {a.path: a for a in Area.objects.filter(path__in={s.place for s in held_out})}
    duties = {p: _duty(g) for p, g in grids.items()}
    keywords = keyword_router()

    def by_keywords(items: Any) -> list[Any]:
        return [keywords.predict(text, place, duties.get(place)) for text, place in items]

    accuracy = {
        "model": evaluate(trial.predict_many, held_out).as_dict(),
        "keywords": evaluate(by_keywords, held_out).as_dict(),
    }
    blob = router.dumps()
    with transaction.atomic():
        last = RoutingModel.objects.select_for_update().filter(path=path).aggregate(v=Max("version"))["v"]
        row = RoutingModel.objects.create(
            path=path,
            version=(last or 0) + 1,
            trained_at=now,
            trained_by=actor if getattr(actor, "is_authenticated", False) else None,
            trained_by_label=actor.get_username() if getattr(actor, "is_authenticated", False) else "system",
            samples=router.info["samples"],
            choice_samples=data.from_choices,
            train_samples=len(learn),
            test_samples=len(held_out),
            categories=router.info["categories"],
            departments=router.info["departments"],
            accuracy=accuracy,
            train_seconds=round(seconds, 3),
            library=router.info["sklearn"],
            blob=blob,
            sha256=digest(blob),
        )
        audit_record(
            actor=actor_of(actor) if getattr(actor, "is_authenticated", False) else SYSTEM,
            action="cases.routing.train",
            object_type="routing_model",
            object_id=row.pk,
            area_path=path,
            detail={"version": row.version, "samples": row.samples, "accuracy": accuracy, "bytes": len(blob)},
            at=now,
        )
    logger.info(
        "routing model %s v%s trained on %s cases: category top-1 %.3f (keywords %.3f)",
        path or "all",
        row.version,
        row.samples,
        accuracy["model"]["category_top1"],
        accuracy["keywords"]["category_top1"],
    )
    return row


# --- the worker's choice -----------------------------------------------------------------------


def _rank(suggested: list[dict[str, Any]], wanted: int) -> int | None:
    for i, item in enumerate(suggested, start=1):
        if item.get("id") == wanted:
            return i
    return None


def routing_choice_record(
    *,
    actor: Any,
    case: Case,
    action: Action,
    suggestion: Suggestion | None,
    category: Category,
    department_ids: tuple[int, ...] = (),
    changed_category: bool = False,
    now: datetime | None = None,
) -> RoutingChoice:
    """Record what was suggested and what was chosen (inside the caller's transaction)."""
    now = now or clock.now()
    record: dict[str, Any] = (
        suggestion.as_record()
        if suggestion is not None
        else {"source": "none", "model": None, "suggested_categories": [], "suggested_departments": []}
    )
    suggested_departments = {item["id"] for item in record["suggested_departments"]}
    choice = RoutingChoice.objects.create(
        case=case,
        action=action.value,
        chosen_category=category,
        chosen_departments=sorted(set(department_ids)),
        category_rank=_rank(record["suggested_categories"], category.pk),
        department_hits=len(suggested_departments & set(department_ids)),
        changed_category=changed_category,
        chosen_by=actor if getattr(actor, "is_authenticated", False) else None,
        chosen_at=now,
        **record,
    )
    audit_record(
        actor=actor_of(actor),
        action="cases.routing.choice",
        object_type="case",
        object_id=case.pk,
        area_path=case.path,
        detail={
            "number": case.number,
            "source": choice.source,
            "model_version": choice.model.version if choice.model else None,
            "category": category.code,
            "category_rank": choice.category_rank,
            "departments": choice.chosen_departments,
            "changed_category": changed_category,
        },
        at=now,
    )
    return choice


def case_reclassify(
    *, actor: Any, role: Role, case: Case, expected_version: int, category: Category, now: datetime
) -> int:
    """Change a case's category before it is accepted or whistled; answers the new version."""
    if not category.is_active:
        raise DomainError(f"事项“{category.name}”已停用。", field="category")
    if category.children.exists():
        raise DomainError("请选择具体的小类事项。", field="category")
    if case.state not in RECLASSIFIABLE:
        raise DomainError("案件已派遣或办理，不能再更改事项分类。", field="category")
    before = case.category
    if (
        Case.objects.filter(pk=case.pk, version=expected_version).update(
            category=category, updated_at=now, version=F("version") + 1
        )
        != 1
    ):
        raise Conflict()
    label = actor.get_username() if actor is not None else "system"
    CaseEvent.objects.create(
        case=case,
        at=now,
        actor=actor,
        actor_label=label,
        role=role.value,
        action="reclassify",
        from_state=case.state,
        to_state=case.state,
        note=f"事项由“{before.name}”改为“{category.name}”",
        payload={"from": before.pk, "to": category.pk},
    )
    audit_record(
        actor=actor_of(actor),
        action="cases.reclassify",
        object_type="case",
        object_id=case.pk,
        area_path=case.path,
        detail={"number": case.number, "from": before.code, "to": category.code},
        at=now,
    )
    return expected_version + 1


def case_route(
    *,
    actor: Any,
    role: Role,
    case_id: int,
    expected_version: int,
    command: Command,
    category: Category | None = None,
    suggestion: Suggestion | None = None,
    now: datetime | None = None,
) -> Case:
    """Accept, whistle or re-dispatch with the suggestions on screen: recategorise if asked, act, record."""
    now = now or clock.now()
    action = command.action
    if action not in ROUTED_ACTIONS:
        raise DomainError("该操作不需要分派建议。")
    with transaction.atomic():
        case = Case.objects.select_related("category", "grid").filter(pk=case_id).first()
        if case is None or not Case.objects.filter(visible_q(actor), pk=case_id).exists():
            raise NotFound("未找到该案件，或您无权查看。")
        if not may_act(actor, role, case):
            raise Forbidden("您不负责该案件，不能执行此操作。")
        if case.version != expected_version:
            raise Conflict()
        changed = category is not None and category.pk != case.category_id
        version = expected_version
        if changed and category is not None:
            version = case_reclassify(
                actor=actor, role=role, case=case, expected_version=expected_version, category=category, now=now
            )
        done = case_act(
            actor=actor, role=role, case_id=case_id, expected_version=version, command=replace(command), now=now
        )
        departments: tuple[int, ...] = ()
        if action is not Action.accept:
            departments = tuple(
                done.assignments.exclude(state="rejected")
                .filter(dispatched_at=now)
                .values_list("department_id", flat=True)
            )
        routing_choice_record(
            actor=actor,
            case=done,
            action=action,
            suggestion=suggestion,
            category=done.category,
            department_ids=departments,
            changed_category=changed,
            now=now,
        )
    return done
