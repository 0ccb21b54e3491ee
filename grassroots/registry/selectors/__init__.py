"""Reads of the registry, each starting from the actor's scope; out of scope is NotFound.

A package (people, search, detail, separation, batch); the names callers use are
re-exported here, so ``registry.selectors.person_search`` keeps working.
"""

from grassroots.registry.selectors.batch import MAX_IDS, BatchInput, BatchResult, batch_query
from grassroots.registry.selectors.detail import PersonDetail, ProvenanceRow, field_label, person_detail
from grassroots.registry.selectors.people import (
    PersonRow,
    age_on,
    dwelling_label,
    dwelling_members,
    dwelling_residents,
    dwelling_visits,
    grid_resident_count,
    grid_residents,
    list_queryset,
    person_get,
    person_rows,
    resident_counts_by_dwelling,
    today,
)
from grassroots.registry.selectors.search import KIND_LABELS, Kind, ParsedQuery, parse_query, person_search
from grassroots.registry.selectors.separation import (
    AwayRow,
    GridCounts,
    GridSeparation,
    HereRow,
    grid_separation,
    separation_counts,
)

__all__ = [
    "KIND_LABELS",
    "MAX_IDS",
    "AwayRow",
    "BatchInput",
    "BatchResult",
    "GridCounts",
    "GridSeparation",
    "HereRow",
    "Kind",
    "ParsedQuery",
    "PersonDetail",
    "PersonRow",
    "ProvenanceRow",
    "age_on",
    "batch_query",
    "dwelling_label",
    "dwelling_members",
    "dwelling_residents",
    "dwelling_visits",
    "field_label",
    "grid_resident_count",
    "grid_residents",
    "grid_separation",
    "list_queryset",
    "parse_query",
    "person_detail",
    "person_get",
    "person_rows",
    "person_search",
    "resident_counts_by_dwelling",
    "separation_counts",
    "today",
]
