"""Reads for the linkage review queue: pending pairs, held records, runs; all from the user's scope.

Pages compare two source records field by field. The values come from the encrypted rows and
are shown masked (ID number and phone), as on every registry page; opening a pair is audited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from grassroots.audit.services import Actor, audit_record_reads
from grassroots.core import crypto
from grassroots.core.errors import NotFound
from grassroots.core.masking import mask_id_number, mask_phone
from grassroots.core.scope import Scope
from grassroots.registry.imports.pipeline import RAW_CONTEXT
from grassroots.registry.models import LinkRun, PairDecision, RecordPair, RecordStatus, SourceRecord
from grassroots.registry.services.linking import leaving_default

# Splink's comparison levels (gamma) in words; -1 is "nothing to compare" on either side.
LEVELS: dict[str, tuple[str, dict[int, str]]] = {
    "name": ("姓名", {4: "相同", 3: "同音（或繁简、拼音）", 2: "相近", 1: "差一个字", 0: "完全不同", -1: "缺失"}),
    "id_number": ("身份证号", {3: "相同", 2: "差一位或两位颠倒", 1: "不同（两个均为有效号码）", 0: "不同", -1: "缺失"}),
    "birth_date": ("出生日期", {3: "相同", 2: "差一位", 1: "同年", 0: "不同", -1: "缺失"}),
    "sex": ("性别", {1: "相同", 0: "不同", -1: "缺失"}),
    "contact": (
        "电话与住址",
        {
            5: "电话和房屋都相同",
            4: "电话相同",
            3: "房屋相同",
            2: "同一楼栋",
            1: "同一小区或门牌",
            0: "不同",
            -1: "缺失",
        },
    ),
}
FIELDS = (
    ("name", "姓名"),
    ("id_number", "身份证号"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("phone", "手机号"),
    ("actual_address", "现住址"),
    ("registered_address", "户籍地址"),
)


def _in_scope(scope: Scope) -> Q:
    # Both records must be inside: a pair across two communities is for the subdistrict to decide.
    return scope.path_q("left__path") & scope.path_q("right__path")


def pending_pairs(*, scope: Scope, reason: str = "") -> QuerySet[RecordPair]:
    pairs = RecordPair.objects.filter(_in_scope(scope), decision=PairDecision.PENDING)
    if reason:
        pairs = pairs.filter(reason=reason)
    return pairs.select_related("left__source", "right__source", "left__person", "right__person")


def pending_counts(*, scope: Scope) -> dict[str, int]:
    rows = RecordPair.objects.filter(_in_scope(scope), decision=PairDecision.PENDING).values("reason")
    return {r["reason"]: r["n"] for r in rows.annotate(n=Count("id"))}


def decided_pairs(*, scope: Scope) -> QuerySet[RecordPair]:
    return (
        RecordPair.objects.filter(_in_scope(scope))
        .exclude(decision=PairDecision.PENDING)
        .select_related("left__source", "right__source", "decided_by")
        .order_by("-decided_at", "-id")
    )


def held_records(*, scope: Scope) -> QuerySet[SourceRecord]:
    return (
        SourceRecord.objects.filter(scope.path_q(), status=RecordStatus.HELD)
        .select_related("source", "job")
        .order_by("-job_id", "row_number")
    )


def recent_runs(*, scope: Scope, limit: int = 10) -> list[LinkRun]:
    # A run belongs to the area it ran over: the user's area, inside it or above it (a city-wide run).
    runs = LinkRun.objects.all() if scope.area_path == "" else LinkRun.objects.filter(_path_related(scope))
    return list(runs.select_related("job")[:limit])


def _path_related(scope: Scope) -> Q:
    area = scope.area_path or ""
    above = [area[:i] for i in range(len(area)) if area[i] == "."] + [area]
    return scope.path_q() | Q(path__in=above) | Q(path="")


@dataclass(frozen=True)
class Side:
    record: SourceRecord
    values: dict[str, str]  # field → value as shown (ID and phone masked)


@dataclass(frozen=True)
class PairView:
    pair: RecordPair
    left: Side
    right: Side
    levels: list[tuple[str, str, int]]  # (label, words, gamma)
    same_person: bool
    leaving: SourceRecord | None  # offered first for a split when both records sit in one person


def _side(record: SourceRecord) -> Side:
    raw: dict[str, str] = json.loads(crypto.decrypt(record.raw_cipher, context=RAW_CONTEXT))
    by_field = {field: raw.get(header, "") for header, field in record.job.mapping.items() if field}
    values = {}
    for field, _ in FIELDS:
        text = str(by_field.get(field, "") or "").strip()
        if field == "id_number" and text:
            text = mask_id_number(text) if len(text) in (15, 18) else "*" * min(len(text), 18)
        elif field == "phone" and text:
            text = mask_phone(text) if len(text) == 11 else "*" * min(len(text), 11)
        values[field] = text
    return Side(record, values)


def pair_view(*, actor: Actor, scope: Scope, pair_id: int) -> PairView:
    pair = (
        RecordPair.objects.select_related(
            "left__source", "left__job", "left__person", "right__source", "right__job", "right__person", "decided_by"
        )
        .filter(pk=pair_id)
        .first()
    )
    if pair is None or not scope.covers_path(pair.left.path) or not scope.covers_path(pair.right.path):
        raise NotFound()
    levels = []
    for key, (label, words) in LEVELS.items():
        if key in pair.levels:
            gamma = int(pair.levels[key])
            levels.append((label, words.get(gamma, str(gamma)), gamma))
    persons = [p for p in (pair.left.person_id, pair.right.person_id) if p]
    same_person = len(persons) == 2 and persons[0] == persons[1]
    audit_record_reads(
        actor=actor,
        object_type="source_record",
        object_ids=[pair.left_id, pair.right_id],
        area_path=pair.path,
        action="registry.linkage.view",
    )
    return PairView(
        pair=pair,
        left=_side(pair.left),
        right=_side(pair.right),
        levels=levels,
        same_person=same_person,
        leaving=leaving_default(pair.left, pair.right) if same_person else None,
    )


def summary(*, scope: Scope) -> dict[str, Any]:
    return {
        "pending": pending_counts(scope=scope),
        "held": SourceRecord.objects.filter(scope.path_q(), status=RecordStatus.HELD).count(),
        "linked": SourceRecord.objects.filter(scope.path_q(), status=RecordStatus.LINKED).count(),
    }
