"""Store the day's data quality of every city, district, subdistrict and community (for the trend).

One pass: the path-grouped aggregates of the whole tree (selectors.path_groups, five queries) are
summed up to each area in Python, then written with one upsert, so running it again the same day
rewrites the same rows (idempotent) and the cost does not grow with the number of areas' queries.
"""

from __future__ import annotations

import logging
import time
from datetime import date
from typing import Any

from django.db import transaction

from grassroots.audit.services import SYSTEM, Actor, audit_record
from grassroots.core.scope import Scope
from grassroots.places.models import Area, AreaLevel
from grassroots.registry.models import QualitySnapshot, Source
from grassroots.registry.quality.selectors import SourceFigures, path_groups, rollup

logger = logging.getLogger(__name__)

SNAPSHOT_LEVELS = (AreaLevel.CITY, AreaLevel.DISTRICT, AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY)
UPDATE_FIELDS = [
    "path",
    "records",
    "persons",
    "held_records",
    "dedup_rate",
    "completeness",
    "pending_pairs",
    "pending_addresses",
    "by_source",
    "by_field",
]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _source_json(src: SourceFigures) -> dict[str, Any]:
    return {
        "rows": src.rows,
        "records": src.records,
        **dict(sorted(src.by_status.items())),
        "completeness": _round(src.completeness),
        "fields": {k: _round(v) for k, v in src.by_field.items()},
    }


def quality_snapshot(*, day: date, actor: Actor = SYSTEM) -> int:
    """Upsert one ``QualitySnapshot`` per city, district, subdistrict and community for ``day``."""
    began = time.perf_counter()
    groups = path_groups(Scope.everything())
    areas = list(Area.objects.filter(level__in=SNAPSHOT_LEVELS).values_list("pk", "path"))
    totals = rollup(groups, [path for _, path in areas])
    codes = dict(Source.objects.values_list("pk", "code"))
    rows = []
    for pk, path in areas:
        fig, by_source = totals[path]
        rows.append(
            QualitySnapshot(
                area_id=pk,
                path=path,
                day=day,
                records=fig.records,
                persons=fig.persons,
                held_records=fig.held,
                dedup_rate=_round(fig.dedup_rate),
                completeness=_round(fig.completeness),
                pending_pairs=fig.pending_pairs,
                pending_addresses=fig.pending_addresses,
                by_source={codes[s]: _source_json(src) for s, src in sorted(by_source.items()) if s in codes},
                by_field={k: _round(v) for k, v in fig.by_field.items()},
            )
        )
    with transaction.atomic():
        QualitySnapshot.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["area", "day"],
            update_fields=UPDATE_FIELDS,
        )
        audit_record(
            actor=actor,
            action="registry.quality_snapshot",
            object_type="registry.qualitysnapshot",
            detail={"day": day.isoformat(), "areas": len(rows)},
        )
    logger.info("quality snapshot %s: %d areas in %.2f s", day, len(rows), time.perf_counter() - began)
    return len(rows)
