"""Every write of the volunteers app (one module per subject; re-exported here).

Mobilisation's services live in ``services/mobilisation.py`` and are imported by full path.
Each service takes the acting user as ``actor``: the role must hold ``volunteers.manage``
(``Forbidden`` otherwise) and every object must lie in the actor's scope (``NotFound``).
"""

from grassroots.volunteers.services.activities import (
    activity_cancel,
    activity_create,
    activity_hours,
    attendance_record,
    signup_add,
    signup_withdraw,
)
from grassroots.volunteers.services.needs import (
    Proposal,
    match_accept,
    match_decline,
    matches_propose,
    need_close,
    need_create,
    project_update,
    resource_create,
    resource_retire,
)
from grassroots.volunteers.services.people import (
    DEFAULT_SKILLS,
    skill_seed,
    team_create,
    team_dissolve,
    team_member_add,
    team_member_remove,
    volunteer_register,
    volunteer_update,
)
from grassroots.volunteers.services.roles import Appointment, building_role_appoint, building_role_end

__all__ = [
    "DEFAULT_SKILLS",
    "Appointment",
    "Proposal",
    "activity_cancel",
    "activity_create",
    "activity_hours",
    "attendance_record",
    "building_role_appoint",
    "building_role_end",
    "match_accept",
    "match_decline",
    "matches_propose",
    "need_close",
    "need_create",
    "project_update",
    "resource_create",
    "resource_retire",
    "signup_add",
    "signup_withdraw",
    "skill_seed",
    "team_create",
    "team_dissolve",
    "team_member_add",
    "team_member_remove",
    "volunteer_register",
    "volunteer_update",
]
