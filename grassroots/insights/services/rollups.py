"""Refresh the insight rollups (models/rollups.py): whole months of cases, whole grids of the registry.

The case counts are the aggregates of ``grassroots.cases.selectors.measures`` (``common_counts`` and
``case_response``) grouped by grid, month of creation and category instead of by child area: the
definitions are not repeated here. A case's first acceptance and first report-in come from the
measures' own ``with_first_responses`` query, stored per case in ``CaseResponse`` by one
INSERT … SELECT (a GROUP BY over cases cannot also group the events by case; correlated subqueries
re-run at every reference were 20 times slower).

Incremental: a case changes only through the case services, which stamp ``updated_at``; the months
in which the cases changed since the last watermark are recomputed whole (deleted and rewritten),
plus always the current and the previous month, whose response figures move with the clock (a
deadline passing without a response). Registry figures are recomputed for the grids whose persons
changed; households come from the buildings, recomputed every time (few rows).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncMonth

from grassroots.audit.services import SYSTEM, Actor, audit_record
from grassroots.cases.models import Case
from grassroots.cases.selectors.measures import (
    COUNT_KEYS,
    case_response,
    common_counts,
    hours_of,
    with_first_responses,
)
from grassroots.cases.workflow import TZ
from grassroots.core import clock
from grassroots.insights.models import CaseResponse, CaseRollup, CategoryRollup, RegistryRollup, RollupRun
from grassroots.places.models import Building
from grassroots.registry.models import Person

CASES, REGISTRY = "cases", "registry"
# Dashboards older than this trigger a refresh in the background (see selectors/dashboards.py).
STALE_AFTER = timedelta(minutes=15)
# A registry record is complete with these filled in (the definition lives in selectors/measures.py).
COMPLETE_Q = ~Q(phone_hash="") & Q(dwelling__isnull=False) & Q(household__isnull=False) & ~Q(ethnicity="")


@dataclass(frozen=True)
class RefreshResult:
    months: list[date]
    case_rows: int
    grids: int
    seconds: float


def month_of(moment: datetime) -> date:
    return moment.astimezone(TZ).date().replace(day=1)


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def _month_q(months: list[date]) -> Q:
    where = Q(pk__in=[])
    for m in months:
        start = datetime(m.year, m.month, 1, tzinfo=TZ)
        nxt = _next_month(m)
        where |= Q(created_at__gte=start, created_at__lt=datetime(nxt.year, nxt.month, 1, tzinfo=TZ))
    return where


def _store_responses(where: Q, *, full: bool) -> None:
    """Rewrite ``CaseResponse`` for the cases matching ``where``: one INSERT … SELECT of the case
    measures' own first-response query (``with_first_responses``: events joined, grouped by case)."""
    cases = Case.objects.filter(where)
    if full:
        CaseResponse.objects.all().delete()
    else:
        CaseResponse.objects.filter(case_id__in=cases.values("pk")).delete()
    firsts = (
        with_first_responses(cases)
        .filter(Q(first_accept__isnull=False) | Q(first_ack__isnull=False))  # type: ignore[misc]
        .order_by()
        .values_list("pk", "first_accept", "first_ack")
    )
    sql, params = firsts.query.sql_with_params()
    table = CaseResponse._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (case_id, first_accept, first_ack) {sql}", params)


def _case_groups(where: Q, now: datetime) -> list[dict[str, Any]]:
    """One row per grid × month × category with the measures' counts (one query)."""
    figures = {**common_counts(""), **case_response(now)}
    return list(
        Case.objects.filter(where)
        .annotate(first_accept=F("insight_response__first_accept"), first_ack=F("insight_response__first_ack"))
        .annotate(
            accept_delay=ExpressionWrapper(F("first_accept") - F("created_at"), output_field=DurationField()),
            m=TruncMonth("created_at", tzinfo=TZ),
        )
        .order_by()
        .values("path", "m", "category_id")
        .annotate(**{f"n_{k}": v for k, v in figures.items()})
    )


def _write_cases(months: list[date], groups: list[dict[str, Any]]) -> int:
    grid_rows: dict[tuple[str, date], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    categories: dict[tuple[str, date, int], list[int]] = defaultdict(lambda: [0, 0])
    for g in groups:
        month = g["m"].astimezone(TZ).date() if isinstance(g["m"], datetime) else g["m"]
        row = grid_rows[(g["path"], month)]
        for k in COUNT_KEYS:
            row[k] += g[f"n_{k}"] or 0
        row["closure_hours"] += hours_of(g["n_closure_sum"]) or 0.0
        community = g["path"].rsplit(".", 1)[0]
        cat = categories[(community, month, g["category_id"])]
        cat[0] += g["n_received"] or 0
        cat[1] += g["n_closed"] or 0
    month = connection.ops.adapt_datefield_value
    case_columns = ["path", "month", *COUNT_KEYS, "closure_hours"]
    with transaction.atomic():
        CaseRollup.objects.filter(month__in=months).delete()
        CategoryRollup.objects.filter(month__in=months).delete()
        # Plain INSERTs: tens of thousands of rows, five times faster than building model instances.
        _insert(
            CaseRollup._meta.db_table,
            case_columns,
            [
                (path, month(m), *(int(row[k]) for k in COUNT_KEYS), row["closure_hours"])
                for (path, m), row in grid_rows.items()
            ],
        )
        _insert(
            CategoryRollup._meta.db_table,
            ["path", "month", "category_id", "received", "closed"],
            [(path, month(m), cat, r, c) for (path, m, cat), (r, c) in categories.items()],
        )
    return len(grid_rows)


def _insert(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - our own table and columns
    with connection.cursor() as cursor:
        for i in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[i : i + 5000])


def registry_rollup_refresh(paths: list[str] | None) -> int:
    """Recompute the registry rollup of ``paths`` (every grid when None)."""
    persons = Person.objects.all() if paths is None else Person.objects.filter(path__in=paths)
    counts = {
        p: (n, c)
        for p, n, c in persons.order_by()
        .values("path")
        .annotate(n=Count("pk"), c=Count("pk", filter=COMPLETE_Q))
        .values_list("path", "n", "c")
    }
    households = dict(Building.objects.order_by().values("path").annotate(h=Sum("households")).values_list("path", "h"))
    touched = set(counts) if paths is not None else set(counts) | set(households)
    if paths is not None:
        touched |= set(paths)
    with transaction.atomic():
        if paths is None:
            RegistryRollup.objects.all().delete()
        else:
            RegistryRollup.objects.filter(path__in=touched).delete()
            # Households move rarely but cheaply: keep every other grid's figure current too.
            for path, h in households.items():
                if path not in touched:
                    RegistryRollup.objects.filter(path=path).exclude(households=h or 0).update(households=h or 0)
        RegistryRollup.objects.bulk_create(
            [
                RegistryRollup(
                    path=p,
                    households=households.get(p) or 0,
                    residents=counts.get(p, (0, 0))[0],
                    complete=counts.get(p, (0, 0))[1],
                )
                for p in sorted(touched)
            ],
            batch_size=2000,
        )
    return len(touched)


def _run(kind: str) -> RollupRun | None:
    return RollupRun.objects.filter(kind=kind).first()


def _stamp(kind: str, *, watermark: datetime, now: datetime, seconds: float, rows: int) -> None:
    RollupRun.objects.update_or_create(
        kind=kind, defaults={"watermark": watermark, "refreshed_at": now, "seconds": seconds, "rows": rows}
    )


def rollups_refresh(*, actor: Actor = SYSTEM, full: bool = False, now: datetime | None = None) -> RefreshResult:
    """Bring every rollup up to date; ``full`` rebuilds everything (idempotent either way)."""
    now = now or clock.now()
    began = time.perf_counter()
    run = _run(CASES)
    if full or run is None:
        _store_responses(Q(), full=True)
        groups = _case_groups(Q(), now)
        months = sorted({month_of(g["m"]) if isinstance(g["m"], datetime) else g["m"] for g in groups})
        with transaction.atomic():
            CaseRollup.objects.all().delete()
            CategoryRollup.objects.all().delete()
            rows = _write_cases(months, groups)
    else:
        changed = (
            Case.objects.filter(updated_at__gte=run.watermark)
            .annotate(m=TruncMonth("created_at", tzinfo=TZ))
            .order_by()
            .values_list("m", flat=True)
            .distinct()
        )
        current = month_of(now)
        previous = month_of(datetime(current.year, current.month, 1, tzinfo=TZ) - timedelta(days=1))
        months = sorted({month_of(m) for m in changed if m is not None} | {current, previous})
        _store_responses(_month_q(months), full=False)
        rows = _write_cases(months, _case_groups(_month_q(months), now))
    _stamp(CASES, watermark=now, now=now, seconds=time.perf_counter() - began, rows=rows)

    registry_run = _run(REGISTRY)
    if full or registry_run is None:
        grids = registry_rollup_refresh(None)
    else:
        paths = list(
            Person.objects.filter(updated_at__gte=registry_run.watermark)
            .order_by()
            .values_list("path", flat=True)
            .distinct()
        )
        grids = registry_rollup_refresh(paths)
    seconds = time.perf_counter() - began
    _stamp(REGISTRY, watermark=now, now=now, seconds=seconds, rows=grids)
    audit_record(
        actor=actor,
        action="insights.rollups_refresh",
        object_type="insights.rollup",
        detail={"full": full, "months": [m.isoformat() for m in months], "rows": rows, "grids": grids},
        at=now,
    )
    return RefreshResult(months, rows, grids, seconds)


def last_refreshed() -> datetime | None:
    run = _run(CASES)
    return run.refreshed_at if run else None
