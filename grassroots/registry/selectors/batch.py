"""Batch query: a list of ID numbers in, the matches within scope out (masked), audited.

A number that is valid but matches nobody in scope is "not found", whether the person
exists elsewhere or not: the answer never tells the two apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grassroots.audit.services import Actor, audit_record
from grassroots.core import crypto
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.ids import InvalidIdNumber, parse_id_number
from grassroots.core.masking import mask_id_number
from grassroots.core.scope import Scope
from grassroots.registry.models import Person
from grassroots.registry.sealing import ID_CONTEXT
from grassroots.registry.selectors.people import list_queryset

MAX_IDS = 5000
_CHUNK = 500


@dataclass(frozen=True)
class BatchInput:
    """One submitted value: where it was (row number, or line for pasted text) and what it was."""

    row: int
    value: str
    problem: str = ""  # set by the parser, e.g. an ID stored as a number in Excel


@dataclass
class BatchResult:
    found: list[tuple[int, Person]] = field(default_factory=list)
    not_found: list[tuple[int, str]] = field(default_factory=list)  # (row, masked number)
    invalid: list[tuple[int, str, str]] = field(default_factory=list)  # (row, shown value, reason)
    duplicates: int = 0

    @property
    def submitted(self) -> int:
        return len(self.found) + len(self.not_found) + len(self.invalid) + self.duplicates


def _shown(value: str) -> str:
    """An invalid entry as the summary shows it: masked when it looks like an ID."""
    text = value.strip()[:40]
    return mask_id_number(text) if len(text) >= 15 else text


def batch_query(*, actor: Actor, scope: Scope, entries: list[BatchInput]) -> BatchResult:
    if scope.area_path is None:
        raise NotFound()
    if len(entries) > MAX_IDS:
        raise DomainError(f"一次最多查询{MAX_IDS}个身份证号，本次提交了{len(entries)}个。", field="ids")
    result = BatchResult()
    wanted: dict[str, int] = {}  # hash → first row
    numbers: dict[str, str] = {}  # hash → number (for the masked "not found" list)
    for entry in entries:
        if entry.problem:
            result.invalid.append((entry.row, _shown(entry.value), entry.problem))
            continue
        try:
            number = parse_id_number(entry.value).number
        except InvalidIdNumber as exc:
            result.invalid.append((entry.row, _shown(entry.value), exc.message))
            continue
        digest = crypto.blind_index(number, context=ID_CONTEXT)
        if digest in wanted:
            result.duplicates += 1
            continue
        wanted[digest] = entry.row
        numbers[digest] = number
    hashes = list(wanted)
    matches: dict[str, Person] = {}
    base = list_queryset().filter(scope.path_q("path"))
    for start in range(0, len(hashes), _CHUNK):
        for person in base.filter(id_number_hash__in=hashes[start : start + _CHUNK]):
            matches[person.id_number_hash] = person
    for digest, row in wanted.items():
        if digest in matches:
            result.found.append((row, matches[digest]))
        else:
            result.not_found.append((row, mask_id_number(numbers[digest])))
    audit_record(
        actor=actor,
        action="registry.person.batch_query",
        object_type="person",
        area_path=scope.area_path,
        detail={
            "submitted": result.submitted,
            "found": len(result.found),
            "not_found": len(result.not_found),
            "invalid": len(result.invalid),
            "ids": [str(p.pk) for _, p in result.found],
        },
    )
    return result
