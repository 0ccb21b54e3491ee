"""Surviving values of a person: per field, the value from the most trusted source, the most
recent record breaking ties, and each value keeps the record and source it came from.

ID numbers prefer a valid 18-digit number over anything else (a 15-digit number is
upgraded), whatever the trust, since the check digit proves it was not mistyped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from grassroots.registry.linkage.comparisons import normalise_date
from grassroots.registry.linkage.ids import standardise_id

SURVIVING_FIELDS = ("name", "id_number", "birth_date", "sex", "phone", "address", "registered_address")


@dataclass(frozen=True)
class Surviving:
    value: str
    record_id: str
    source: str
    trust: int
    updated_at: str


def _filled(value: object) -> bool:
    if value is None or (isinstance(value, float) and value != value):
        return False
    return bool(str(value).strip())


def survive(
    records: Iterable[Mapping[str, Any]],
    *,
    source_trust: Mapping[str, int],
    fields: Iterable[str] = SURVIVING_FIELDS,
    default_trust: int = 50,
) -> dict[str, Surviving]:
    """The surviving value of each field over one cluster's records (absent when no record has it)."""
    rows = list(records)
    out: dict[str, Surviving] = {}
    for name in fields:
        candidates: list[tuple[tuple[int, int, str, str], Surviving]] = []
        for r in rows:
            raw = r.get(name)
            if not _filled(raw):
                continue
            value = str(raw).strip()
            quality = 0
            if name == "id_number":
                std = standardise_id(value)
                if std.number is None:
                    continue
                quality = 1 if std.valid else 0
                value = std.number
            elif name == "birth_date":
                value = normalise_date(value) or ""
                if not value:
                    continue
            source = str(r.get("source") or "")
            trust = int(source_trust.get(source, default_trust))
            updated = str(r.get("updated_at") or "")
            rid = str(r.get("record_id"))
            candidates.append(((quality, trust, updated, rid), Surviving(value, rid, source, trust, updated)))
        if candidates:
            out[name] = max(candidates, key=lambda c: c[0])[1]
    return out
