"""Removing a previous demo city (``demo_city --replace``).

Big tables go with one DELETE each (Django's collector would load millions of rows);
the database's own foreign keys still refuse to orphan anything another app holds.
Users and areas go through the ORM so PROTECT references surface as clear errors.
The party and volunteers rows go first (they hold PROTECT keys to areas, buildings, persons and
units), children before parents; rows elsewhere that merely point at a deleted row through a
SET_NULL key are set to NULL, as Django would. The audit log and the notify outbox stay.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Model, Q, QuerySet

from grassroots.accounts.models import Department, GridRoleAssignment, Role, User, WorkerProfile
from grassroots.cases.models import Case, CaseAssignment, CaseEvent, CasePhoto, DutyAssignment
from grassroots.engage import models as engage
from grassroots.estates import models as estates
from grassroots.insights import models as insights
from grassroots.party.models import (
    Alliance,
    AllianceItem,
    AllianceMember,
    Checkin,
    CommitteeSeat,
    Pairing,
    PartyMember,
    PartyOrg,
    RotationDuty,
    ServiceRecord,
)
from grassroots.places.models import Area, Building, Compound, Dwelling, Entrance
from grassroots.registry.models import Household, Person, Residence, Unit
from grassroots.volunteers.models import (
    Activity,
    BuildingRole,
    Match,
    Mobilisation,
    Need,
    Project,
    Recipient,
    Resource,
    Signup,
    Team,
    Volunteer,
)

DEMO_USER_PREFIX = "demo_"


def _in_tree(root: str, field: str = "path") -> Q:
    return Q(**{field: root}) | Q(**{f"{field}__startswith": root + "."})


def _delete_insights(inside: Q) -> dict[str, int]:
    """Assessment, hotspot decisions and rollups in the tree: they hold cases, areas, departments and units."""
    deleted: dict[str, int] = {}
    for label, rows in [
        ("assessment_ratings", insights.AssessmentRating.objects.filter(inside)),
        ("assessment_months", insights.AssessmentMonth.objects.filter(inside)),
        ("assessment_weights", insights.AssessmentWeights.objects.filter(inside)),
        ("hotspot_decisions", insights.HotspotDecision.objects.filter(inside)),
        ("plan_proposals", insights.PlanProposal.objects.filter(inside)),
        ("case_responses", insights.CaseResponse.objects.filter(case__in=Case.objects.filter(inside).values("pk"))),
        ("case_rollups", insights.CaseRollup.objects.filter(inside)),
        ("category_rollups", insights.CategoryRollup.objects.filter(inside)),
        ("registry_rollups", insights.RegistryRollup.objects.filter(inside)),
    ]:
        deleted[label] = rows.delete()[0] or 0
    return deleted


def _delete_engage(inside: Q) -> dict[str, int]:
    """Deliberation and notices in the tree; decisions before meetings, meetings before topics (PROTECT)."""
    deleted: dict[str, int] = {}
    for label, rows in [
        ("decisions", engage.Decision.objects.filter(topic__in=engage.Topic.objects.filter(inside))),
        ("meetings", engage.Meeting.objects.filter(inside)),
        ("topics", engage.Topic.objects.filter(inside)),
        ("notices", engage.Notice.objects.filter(inside)),
        ("service_guides", engage.ServiceGuide.objects.filter(inside)),
        ("admission_items", engage.AdmissionItem.objects.filter(inside)),
        ("service_centres", engage.ServiceCentre.objects.filter(inside)),
    ]:
        deleted[label] = rows.delete()[0] or 0
    return deleted


def _delete_estates(inside: Q, persons: QuerySet[Person]) -> dict[str, int]:
    """Estates rows in the tree (small tables: the ORM collector follows their cascades)."""
    people = persons.values("pk")
    deleted: dict[str, int] = {}
    for label, rows in [
        ("surveys", estates.Survey.objects.filter(inside)),
        ("fee_collections", estates.FeeCollection.objects.filter(inside)),
        ("estate_reports", estates.EstateReport.objects.filter(inside)),
        ("revenue_uses", estates.RevenueUse.objects.filter(inside)),
        ("service_contracts", estates.ServiceContract.objects.filter(inside)),
        ("dormitory_heads", estates.DormitoryHead.objects.filter(Q(inside) | Q(person_id__in=people))),
        ("dormitory_zones", estates.DormitoryZone.objects.filter(inside)),
        ("cross_appointments", estates.CrossAppointment.objects.filter(Q(inside) | Q(person_id__in=people))),
        ("owners_committee_members", estates.OwnersCommitteeMember.objects.filter(Q(inside) | Q(person_id__in=people))),
        ("owners_committees", estates.OwnersCommittee.objects.filter(inside)),
        ("property_companies", estates.PropertyCompany.objects.filter(inside, contracts__isnull=True)),
    ]:
        deleted[label] = rows.delete()[0] or 0
    return deleted


@transaction.atomic
def delete_demo_city(root_path: str) -> dict[str, int]:
    """Delete the tree rooted at ``root_path`` and everything scoped inside it; returns row counts."""
    inside = _in_tree(root_path)
    db = connection.alias
    deleted: dict[str, int] = {}
    persons = Person.objects.filter(inside)
    deleted["person_tags"] = Person.tags.through.objects.filter(person_id__in=persons.values("pk"))._raw_delete(db)
    deleted["residences"] = Residence.objects.filter(person_id__in=persons.values("pk"))._raw_delete(db)
    deleted.update(_delete_insights(inside))  # first: it holds cases, areas, departments and units
    deleted.update(_delete_engage(inside))  # then: its actions hold cases and volunteer projects
    cases = Case.objects.filter(inside).values("pk")
    for label, case_model in [
        ("case_photos", CasePhoto),
        ("case_events", CaseEvent),
        ("case_assignments", CaseAssignment),
    ]:
        deleted[label] = case_model._default_manager.filter(case_id__in=cases)._raw_delete(db)
    deleted.update(_delete_estates(inside, persons))  # before the party: cross appointments hold its orgs
    deleted.update(_delete_forces(root_path, persons))
    Case.objects.filter(inside, merged_into__isnull=False).update(merged_into=None)
    duty = DutyAssignment.objects.filter(inside).values("pk")
    deleted["duty_departments"] = DutyAssignment.departments.through.objects.filter(
        dutyassignment_id__in=duty
    )._raw_delete(db)
    for label, model in [
        ("cases", Case),
        ("duty_assignments", DutyAssignment),
        ("persons", Person),
        ("households", Household),
        ("dwellings", Dwelling),
        ("entrances", Entrance),
        ("buildings", Building),
        ("compounds", Compound),
        ("grid_roles", GridRoleAssignment),
        ("worker_profiles", WorkerProfile),
    ]:
        deleted[label] = model._default_manager.filter(inside)._raw_delete(db)
    demo_users = User.objects.filter(username__startswith=DEMO_USER_PREFIX).exclude(role=Role.ADMIN)
    deleted["users"] = demo_users.filter(
        _in_tree(root_path, "area__path") | _in_tree(root_path, "department__path")
    ).delete()[0]
    deleted["departments"] = Department.objects.filter(inside).delete()[0]
    areas = 0
    for depth in sorted(set(Area.objects.filter(inside).values_list("depth", flat=True)), reverse=True):
        areas += Area.objects.filter(inside, depth=depth).delete()[0]
    deleted["areas"] = areas
    return deleted


def _delete_forces(root_path: str, persons: QuerySet[Person]) -> dict[str, int]:
    """The volunteers and party rows scoped inside the tree (or held by its persons), then its units."""
    inside = _in_tree(root_path)
    db = connection.alias
    person_ids = persons.values("pk")
    units = Unit.objects.filter(inside).values("pk")
    deleted: dict[str, int] = {}

    def drop(label: str, model: type[Model], where: Q) -> None:
        # An empty ``pk__in`` list deletes nothing without a query (and answers None).
        deleted[label] = model._default_manager.filter(where)._raw_delete(db) or 0

    # Volunteers: mobilisations, needs ↔ resources, activities, teams, volunteers, building roles.
    drop("mob_recipients", Recipient, inside | Q(mobilisation_id__in=Mobilisation.objects.filter(inside).values("pk")))
    drop("mobilisations", Mobilisation, inside)
    matches = list(
        Match.objects.filter(
            inside
            | Q(need_id__in=Need.objects.filter(inside).values("pk"))
            | Q(resource_id__in=Resource.objects.filter(inside).values("pk"))
        ).values_list("pk", flat=True)
    )
    drop("projects", Project, inside | Q(match_id__in=matches))
    drop("matches", Match, Q(pk__in=matches))
    volunteers = list(Volunteer.objects.filter(inside | Q(person_id__in=person_ids)).values_list("pk", flat=True))
    Resource.objects.exclude(inside).filter(volunteer_id__in=volunteers).update(volunteer=None)
    Resource.objects.exclude(inside).filter(unit_id__in=units).update(unit=None)
    drop("resources", Resource, inside)
    drop("needs", Need, inside)
    activities = Activity.objects.filter(inside).values("pk")
    drop("signups", Signup, inside | Q(activity_id__in=activities) | Q(person_id__in=person_ids))
    teams = Team.objects.filter(inside).values("pk")
    Activity.objects.exclude(inside).filter(team_id__in=teams).update(team=None)
    drop("activities", Activity, inside)
    drop("team_members", Team.members.through, Q(team_id__in=teams) | Q(person_id__in=person_ids))
    Team.objects.exclude(inside).filter(leader_id__in=person_ids).update(leader=None)
    drop("teams", Team, inside)
    drop("volunteer_skills", Volunteer.skills.through, Q(volunteer_id__in=volunteers))
    drop("volunteers", Volunteer, Q(pk__in=volunteers))
    drop("building_roles", BuildingRole, inside | Q(person_id__in=person_ids))
    # Party: alliances and their lists, members with check-ins and services, the organisation tree.
    alliances = Alliance.objects.filter(inside).values("pk")
    for label, model in [
        ("alliance_items", AllianceItem),
        ("rotation_duties", RotationDuty),
        ("alliance_members", AllianceMember),
    ]:
        drop(label, model, Q(alliance_id__in=alliances))
    drop("alliances", Alliance, inside)
    drop("pairings", Pairing, inside)
    members = list(PartyMember.objects.filter(inside | Q(person_id__in=person_ids)).values_list("pk", flat=True))
    drop("service_records", ServiceRecord, inside | Q(member_id__in=members))
    drop("checkins", Checkin, inside | Q(member_id__in=members))
    drop("party_members", PartyMember, Q(pk__in=members))
    orgs = list(PartyOrg.objects.filter(inside).values_list("pk", flat=True))
    Alliance.objects.filter(lead_org_id__in=orgs).update(lead_org=None)
    drop("committee_seats", CommitteeSeat, Q(org_id__in=orgs))
    PartyOrg.objects.exclude(inside).filter(secretary_id__in=person_ids).update(secretary=None)
    CommitteeSeat.objects.filter(person_id__in=person_ids).update(person=None)
    drop("party_orgs", PartyOrg, Q(pk__in=orgs))
    # Units of the tree: rows elsewhere that merely name one (SET_NULL) let go of it.
    PartyMember.objects.filter(employer_id__in=units).update(employer=None)
    CommitteeSeat.objects.filter(from_unit_id__in=units).update(from_unit=None)
    AllianceItem.objects.filter(owner_unit_id__in=units).update(owner_unit=None)
    drop("units", Unit, inside)
    return deleted
