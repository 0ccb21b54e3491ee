"""Removing a previous demo city (``demo_city --replace``).

Big tables go with one DELETE each (Django's collector would load millions of rows);
the database's own foreign keys still refuse to orphan anything another app holds.
Users and areas go through the ORM so PROTECT references surface as clear errors.
The audit log is append-only and stays.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Q

from grassroots.accounts.models import Department, GridRoleAssignment, Role, User, WorkerProfile
from grassroots.cases.models import Case, CaseAssignment, CaseEvent, CasePhoto, DutyAssignment
from grassroots.places.models import Area, Building, Compound, Dwelling, Entrance
from grassroots.registry.models import Household, Person, Residence

DEMO_USER_PREFIX = "demo_"


def _in_tree(root: str, field: str = "path") -> Q:
    return Q(**{field: root}) | Q(**{f"{field}__startswith": root + "."})


@transaction.atomic
def delete_demo_city(root_path: str) -> dict[str, int]:
    """Delete the tree rooted at ``root_path`` and everything scoped inside it; returns row counts."""
    inside = _in_tree(root_path)
    db = connection.alias
    deleted: dict[str, int] = {}
    persons = Person.objects.filter(inside)
    deleted["person_tags"] = Person.tags.through.objects.filter(person_id__in=persons.values("pk"))._raw_delete(db)
    deleted["residences"] = Residence.objects.filter(person_id__in=persons.values("pk"))._raw_delete(db)
    cases = Case.objects.filter(inside).values("pk")
    for label, case_model in [
        ("case_photos", CasePhoto),
        ("case_events", CaseEvent),
        ("case_assignments", CaseAssignment),
    ]:
        deleted[label] = case_model._default_manager.filter(case_id__in=cases)._raw_delete(db)
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
