"""Reads of smart dispatch: the training set, the model answering for a case, the suggestions.

The learned model lives in ``RoutingModel`` rows; a loaded model is cached per process by row
and hash, so a page costs one small query to find the row and a few milliseconds to predict.
Until a model exists (too little history) the duty-list keywords answer.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from grassroots.accounts.models import Department
from grassroots.cases.models import AssignmentState, Case, CaseAssignment, Category, RoutingChoice, RoutingModel
from grassroots.cases.routing import KeywordRouter, Prediction, Router, Sample, default_keywords, load_router
from grassroots.cases.selectors import duty_for
from grassroots.cases.selectors.cases import visible_q
from grassroots.cases.workflow import CaseState
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Area

logger = logging.getLogger(__name__)

MAX_TRAINING_CASES = 100_000  # the most recent; older habits matter less and memory stays bounded
SKIPPED_ASSIGNMENTS = (AssignmentState.REJECTED,)


# --- the training set --------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingSet:
    samples: list[Sample]
    from_choices: int  # samples labelled by a recorded choice (case not closed yet)


def training_samples(*, scope: Scope, limit: int = MAX_TRAINING_CASES) -> TrainingSet:
    """Labelled past cases in ``scope``: closed cases (their final category and the departments
    that did not reject them) and, for cases not closed yet, the latest recorded dispatcher choice."""
    closed = list(
        Case.objects.in_scope(scope)
        .filter(state=CaseState.closed.value)
        .order_by("-closed_at", "-id")
        .values_list("pk", "description", "path", "category_id", "created_at")[:limit]
    )
    departments: dict[int, list[str]] = {}
    ids = [c[0] for c in closed]
    for chunk in range(0, len(ids), 5000):  # bounded IN lists
        for case_id, department_id in (
            CaseAssignment.objects.filter(case_id__in=ids[chunk : chunk + 5000])
            .exclude(state__in=SKIPPED_ASSIGNMENTS)
            .values_list("case_id", "department_id")
        ):
            departments.setdefault(case_id, []).append(str(department_id))
    samples = [
        Sample(
            text=text,
            place=path,
            category=str(category_id),
            departments=tuple(sorted(departments.get(pk, []))),
            at=created.timestamp(),
        )
        for pk, text, path, category_id, created in closed
    ]
    seen = {c[0] for c in closed}
    latest: dict[int, RoutingChoice] = {}
    choices = (
        RoutingChoice.objects.filter(scope.path_q("case__path"))
        .exclude(case__state=CaseState.closed.value)
        .select_related("case")
        .order_by("-chosen_at", "-id")[:limit]
    )
    for choice in choices:
        if choice.case_id not in seen and choice.case_id not in latest:
            latest[choice.case_id] = choice
    for choice in latest.values():
        samples.append(
            Sample(
                text=choice.case.description,
                place=choice.case.path,
                category=str(choice.chosen_category_id),
                departments=tuple(sorted(str(d) for d in choice.chosen_departments)),
                at=choice.case.created_at.timestamp(),
            )
        )
    return TrainingSet(samples, len(latest))


# --- the model answering for a case ------------------------------------------------------------

_lock = threading.Lock()
_loaded: dict[tuple[int, str], Router] = {}


def model_for(path: str) -> RoutingModel | None:
    """The newest active model of the most specific area covering ``path`` (or of the platform)."""
    parts = path.split(".") if path else []
    covering = [""] + [".".join(parts[:n]) for n in range(1, len(parts) + 1)]
    rows = list(
        RoutingModel.objects.filter(is_active=True, path__in=covering).defer("blob").order_by("-trained_at", "-id")
    )
    if not rows:
        return None
    return max(rows, key=lambda r: (len(r.path), r.trained_at, r.pk))


def _router(row: RoutingModel) -> Router | None:
    key = (row.pk, row.sha256)
    with _lock:
        if key in _loaded:
            return _loaded[key]
    blob = RoutingModel.objects.filter(pk=row.pk).values_list("blob", flat=True).first()
    try:
        router = load_router(bytes(blob or b""), row.sha256)
    except Exception:  # a model pickled by another scikit-learn, or a damaged row: fall back, say so
        logger.exception("routing model %s could not be loaded; using keywords", row.pk)
        return None
    with _lock:
        if len(_loaded) >= 4:
            _loaded.clear()
        _loaded[key] = router
    return router


def keyword_router() -> KeywordRouter:
    """Keywords of every active leaf category: seeded synonyms, its name and its parent's name."""
    rows = list(Category.objects.filter(is_active=True).select_related("parent"))
    parents = {r.parent_id for r in rows if r.parent_id}
    return KeywordRouter(
        {
            str(r.pk): default_keywords(r.code, [r.name, r.parent.name if r.parent else ""])
            for r in rows
            if r.pk not in parents
        }
    )


def _duty(grid: Area) -> Any:
    categories: dict[str, Category] = {}

    def departments(label: str, place: str) -> list[str]:
        category = categories.get(label) or Category.objects.filter(pk=int(label)).first()
        if category is None:
            return []
        categories[label] = category
        try:
            return [str(d.pk) for d in duty_for(category=category, area=grid).departments]
        except DomainError:
            return []

    return departments


# --- suggestions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggested:
    item: Any  # a Category or a Department
    confidence: float

    @property
    def percent(self) -> int:
        return round(self.confidence * 100)

    @property
    def percent_label(self) -> str:
        return "<1%" if self.confidence < 0.005 else f"{self.percent}%"


@dataclass(frozen=True)
class Suggestion:
    """The top three categories and departments for one case, and where they came from."""

    source: str  # "model" | "keywords"
    model: RoutingModel | None
    categories: list[Suggested]
    departments: list[Suggested]

    @property
    def source_label(self) -> str:
        return "分派模型" if self.source == "model" else "事项清单关键词"

    def as_record(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "model": self.model,
            "suggested_categories": [{"id": s.item.pk, "confidence": s.confidence} for s in self.categories],
            "suggested_departments": [{"id": s.item.pk, "confidence": s.confidence} for s in self.departments],
        }


def predict_for_case(case: Case) -> tuple[Prediction, RoutingModel | None]:
    """The engine's answer for ``case`` (no scope check: callers have one)."""
    row = model_for(case.path)
    router = _router(row) if row is not None else None
    duty = _duty(case.grid)
    if router is not None:
        return router.predict(case.description, case.path, duty), row
    return keyword_router().predict(case.description, case.path, duty), None


def routing_suggest(*, user: Any, case: Case) -> Suggestion:
    """Suggestions for a case the user can see; out of reach is ``NotFound``."""
    if not Case.objects.filter(visible_q(user), pk=case.pk).exists():
        raise NotFound("未找到该案件，或您无权查看。")
    prediction, row = predict_for_case(case)
    category_rows = Category.objects.filter(
        pk__in=[int(r.label) for r in prediction.categories], is_active=True
    ).in_bulk()
    department_rows = Department.objects.filter(
        pk__in=[int(r.label) for r in prediction.departments], is_active=True
    ).in_bulk()
    return Suggestion(
        source=prediction.source,
        model=row,
        categories=[
            Suggested(category_rows[int(r.label)], r.confidence)
            for r in prediction.categories
            if int(r.label) in category_rows
        ],
        departments=[
            Suggested(department_rows[int(r.label)], r.confidence)
            for r in prediction.departments
            if int(r.label) in department_rows
        ],
    )


def routing_models(*, scope: Scope) -> list[RoutingModel]:
    """Trained models an actor may see: the platform's and those of areas in scope."""
    q = Q(path="") | scope.path_q("path")
    return list(RoutingModel.objects.filter(q).defer("blob").order_by("-trained_at", "-id")[:50])


def choice_stats(*, scope: Scope) -> dict[str, Any]:
    """How often the suggestions were taken (first, within three) in ``scope``."""
    rows = list(RoutingChoice.objects.filter(scope.path_q("case__path")).values_list("source", "category_rank"))
    n = len(rows)
    first = sum(1 for _, rank in rows if rank == 1)
    top3 = sum(1 for _, rank in rows if rank is not None)
    return {"choices": n, "first": first, "top3": top3, "from_model": sum(1 for s, _ in rows if s == "model")}
