"""Writes to the registry, by subject; every public name is importable from here."""

from grassroots.registry.sealing import (
    ID_CONTEXT,
    PHONE_CONTEXT,
    SealedValue,
    id_number_hash,
    seal_id_number,
    seal_phone,
)
from grassroots.registry.services.people import (
    DERIVED_TAGS,
    REVEALABLE,
    derived_tag_codes,
    person_create,
    person_refresh_separation,
    person_reveal,
    separation_between,
    tag_create,
)
from grassroots.registry.services.units import UNIT_PHONE_CONTEXT, unit_create
from grassroots.registry.services.visits import FINDINGS, MAX_NOTES, MemberUpdate, visit_record

__all__ = [
    "DERIVED_TAGS",
    "FINDINGS",
    "ID_CONTEXT",
    "MAX_NOTES",
    "PHONE_CONTEXT",
    "REVEALABLE",
    "UNIT_PHONE_CONTEXT",
    "MemberUpdate",
    "SealedValue",
    "derived_tag_codes",
    "id_number_hash",
    "person_create",
    "person_refresh_separation",
    "person_reveal",
    "seal_id_number",
    "seal_phone",
    "separation_between",
    "tag_create",
    "unit_create",
    "visit_record",
]
