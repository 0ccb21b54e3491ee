"""Shapes of the cases API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema


class CaseIn(Schema):
    channel: str = "resident_h5"
    category_id: int
    description: str
    lon: float | None = None
    lat: float | None = None
    coord_system: Literal["wgs84", "gcj02"] = "wgs84"  # phones report GCJ-02
    building_id: int | None = None
    photos: list[int] = []  # ids from POST /cases/photos, at most 9


class PhotoOut(Schema):
    id: int
    url: str
    width: int
    height: int
    content_type: str


class CaseOut(Schema):
    id: int
    number: str | None
    channel: str
    category_id: int
    category_name: str
    description: str
    lon: float | None
    lat: float | None
    building_id: int | None
    grid_id: int
    grid_name: str
    state: str
    state_label: str
    whistle_kind: str
    level: int
    acknowledge_by: datetime | None
    handle_by: datetime | None
    overdue: bool
    provisional: bool
    merged_into_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime


class SubmittedOut(Schema):
    case: CaseOut
    duplicates: list[CaseOut]


class CasePageOut(Schema):
    items: list[CaseOut]
    total: int
    limit: int
    offset: int


class EventOut(Schema):
    at: datetime
    actor: str
    role: str
    action: str
    from_state: str
    to_state: str
    department: str | None
    note: str
    rating: str


class AssignmentOut(Schema):
    department_id: int
    department: str
    state: str
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    reject_reason: str


class ActionOut(Schema):
    role: str
    action: str
    label: str


class CasePhotoOut(PhotoOut):
    stage: str


class CaseDetailOut(CaseOut):
    timeline: list[EventOut]
    assignments: list[AssignmentOut]
    allowed_actions: list[ActionOut]
    photos: list[CasePhotoOut]


class ActIn(Schema):
    action: str
    expected_version: int
    role: str | None = None  # default: the caller's first role in the loop
    reason: str = ""
    result: str = ""
    comment: str = ""
    rating: str | None = None
    photos: list[int] = []  # ids from POST /cases/photos (resolve and verification steps)
    target_case_id: int | None = None
    departments: list[int] = []
