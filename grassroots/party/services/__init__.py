"""Every write of the party app (one module per subject; re-exported here)."""

from grassroots.party.services.checkins import (
    UNKNOWN_PERSON,
    checkin_confirm,
    checkin_end,
    checkin_find_person,
    checkin_request,
    checkin_return,
)
from grassroots.party.services.members import community_of, member_create, member_deactivate, member_update
from grassroots.party.services.orgs import org_create, org_deactivate, org_update, seat_add, seat_end
from grassroots.party.services.service_records import Recorded, service_record_add, service_record_confirm

__all__ = [
    "UNKNOWN_PERSON",
    "Recorded",
    "checkin_confirm",
    "checkin_end",
    "checkin_find_person",
    "checkin_request",
    "checkin_return",
    "community_of",
    "member_create",
    "member_deactivate",
    "member_update",
    "org_create",
    "org_deactivate",
    "org_update",
    "seat_add",
    "seat_end",
    "service_record_add",
    "service_record_confirm",
]
