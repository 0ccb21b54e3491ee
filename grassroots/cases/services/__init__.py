"""Writes for the case loop's foundations; every public name is importable from here."""

from grassroots.cases.services.calendar import (
    CalendarImportError,
    CalendarImportResult,
    calendar_day_clear,
    calendar_day_set,
    calendar_import,
    calendar_year_mark,
)
from grassroots.cases.services.cases import Conflict, Submitted, case_act, case_submit
from grassroots.cases.services.deadlines import format_deadline, parse_deadline
from grassroots.cases.services.duty import (
    Deadlines,
    assignment_delete,
    assignment_save,
    category_create,
    category_update,
)
from grassroots.cases.services.duty_import import (
    DutyImportError,
    DutyImportPreview,
    duty_import_apply,
    duty_import_check,
    preview_token,
    read_duty_rows,
    rows_from_token,
)
from grassroots.cases.services.seed import categories_seed
from grassroots.cases.services.sweep import SweepReport, sla_sweep

__all__ = [
    "CalendarImportError",
    "CalendarImportResult",
    "Conflict",
    "Deadlines",
    "DutyImportError",
    "DutyImportPreview",
    "Submitted",
    "SweepReport",
    "assignment_delete",
    "assignment_save",
    "calendar_day_clear",
    "calendar_day_set",
    "calendar_import",
    "calendar_year_mark",
    "case_act",
    "case_submit",
    "categories_seed",
    "category_create",
    "category_update",
    "duty_import_apply",
    "duty_import_check",
    "format_deadline",
    "parse_deadline",
    "preview_token",
    "read_duty_rows",
    "rows_from_token",
    "sla_sweep",
]
