"""Targets arithmetic on hand-made records, the per-community and per-unit figures, and the unit report."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.party import exports, selectors, services
from grassroots.party.models import ServiceRecord, TargetRule
from tests.party.conftest import ALL, Party, employed_member

pytestmark = pytest.mark.django_db


def _service(member, kind: str, on: date, *, confirmed: bool = True, hours: int = 2) -> ServiceRecord:  # type: ignore[no-untyped-def]
    path = member.residence_area.path if member.residence_area else member.path
    return services.service_record_add(
        actor=None, member=member, kind=kind, on=on, description="服务", path=path, hours=hours, confirmed=confirmed
    ).record


def test_targets_count_confirmed_services_in_the_year(party: Party) -> None:
    m = employed_member(party, seq=71, name="甲")
    _service(m, "volunteer", date(2025, 3, 1))
    _service(m, "volunteer", date(2025, 12, 31), hours=3)
    _service(m, "volunteer", date(2024, 12, 31))  # last year
    _service(m, "volunteer", date(2025, 5, 1), confirmed=False)  # not confirmed
    _service(m, "problem", date(2025, 1, 1))
    target = selectors.target_for(2025)
    assert (target.volunteer_services, target.problems_solved) == (2, 1)  # GLOSSARY defaults
    p = selectors.progress_by_member([m.pk], target)[m.pk]
    assert (p.volunteer_services, p.volunteer_hours, p.problems_solved, p.met) == (2, Decimal(5), 1, True)
    TargetRule.objects.create(year=2025, volunteer_services=3, problems_solved=1)
    p = selectors.progress_by_member([m.pk], selectors.target_for(2025))[m.pk]
    assert not p.met and p.problems_met and not p.volunteer_met
    assert selectors.progress_by_member([m.pk], selectors.target_for(2023))[m.pk].volunteer_services == 0


def test_confirming_a_service_counts_it(party: Party) -> None:
    m = employed_member(party, seq=72, name="乙")
    record = _service(m, "problem", date(2025, 4, 1), confirmed=False)
    assert selectors.progress_by_member([m.pk], selectors.target_for(2025))[m.pk].problems_solved == 0
    with pytest.raises(NotFound):
        services.service_record_confirm(actor=SYSTEM, scope=Scope(area_path=party.tree.chengnan.path), record=record)
    services.service_record_confirm(actor=SYSTEM, scope=ALL, record=record)
    assert selectors.progress_by_member([m.pk], selectors.target_for(2025))[m.pk].problems_solved == 1
    with pytest.raises(DomainError, match="已确认"):
        services.service_record_confirm(actor=SYSTEM, scope=ALL, record=record)


def _three_members(party: Party):  # type: ignore[no-untyped-def]
    a = employed_member(party, seq=81, name="张三")
    b = employed_member(party, seq=82, name="李四")
    c = employed_member(party, seq=83, name="王五", unit=party.other_unit)
    for member in (a, b):
        ci = services.checkin_request(actor=SYSTEM, community=party.tree.chengbei, person=member.person)
        services.checkin_confirm(actor=SYSTEM, scope=ALL, checkin=ci)
    services.checkin_request(actor=SYSTEM, community=party.tree.chengbei, person=c.person)  # pending
    _service(a, "volunteer", date(2025, 3, 1))
    _service(a, "volunteer", date(2025, 4, 1), hours=1)
    _service(a, "problem", date(2025, 5, 1))
    _service(b, "volunteer", date(2025, 3, 1))
    return a, b, c


def test_tallies_per_community_and_unit(party: Party) -> None:
    _three_members(party)
    _, rows = selectors.community_tallies(scope=ALL, area=party.tree.yushan, year=2025)
    by = {t.label: t for t in rows}
    assert (by["城北社区"].members, by["城北社区"].checked_in, by["城北社区"].met) == (3, 2, 1)
    assert (by["城北社区"].checked_in_percent, by["城北社区"].met_percent) == (66.7, 33.3)
    assert (by["城南社区"].members, by["城南社区"].checked_in_percent) == (0, 0.0)
    _, units = selectors.unit_tallies(scope=ALL, year=2025)
    by = {t.label: t for t in units}
    assert (by["昆山市税务局"].members, by["昆山市税务局"].checked_in, by["昆山市税务局"].met) == (2, 2, 1)
    assert by["=HYPERLINK(1)科技公司"].checked_in == 0


def test_the_unit_report_as_xlsx_and_pdf(party: Party) -> None:
    _, b, _ = _three_members(party)
    report = selectors.unit_report(actor=SYSTEM, scope=ALL, unit_id=party.unit.pk, year=2025)
    assert [r.name for r in report.rows] == ["李四", "张三"]  # by pinyin
    assert (report.checked_in, report.met) == (2, 1)
    data = exports.unit_report_xlsx(actor=SYSTEM, report=report, area_path="")
    ws = load_workbook(io.BytesIO(data)).active
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[2] == exports.HEADERS
    assert rows[3][0] == "李四" and rows[3][1] == b.person.id_number_masked and rows[3][2] == "城北社区"
    assert rows[3][3:] == ["已报到", rows[3][4], "1", "2.0", "0", "否"]
    assert rows[4][5:] == ["2", "3.0", "1", "是"]
    assert all(c.data_type == "s" for r in ws.iter_rows() for c in r if c.value)
    assert "*" in rows[3][1]  # masked
    pdf = exports.unit_report_pdf(actor=SYSTEM, report=report, area_path="", issued_by="玉山镇党工委")
    assert pdf.startswith(b"%PDF")
    assert AuditEntry.objects.filter(action="party.unit_report.export").count() == 2


def test_the_report_escapes_formulas_and_respects_scope(party: Party) -> None:
    employed_member(party, seq=91, name="=1+1", unit=party.other_unit)
    report = selectors.unit_report(actor=SYSTEM, scope=ALL, unit_id=party.other_unit.pk, year=2025)
    ws = load_workbook(io.BytesIO(exports.unit_report_xlsx(actor=SYSTEM, report=report, area_path=""))).active
    assert ws["A1"].value.startswith("=HYPERLINK") and ws["A1"].data_type == "s"
    assert ws["A4"].value == "=1+1" and ws["A4"].data_type == "s"
    # 周市社区 sees the tax office (it is located there) but none of its members living in 城北社区.
    zhoushi = Scope(area_path=party.tree.zhoushi_c.path)
    assert selectors.unit_report(actor=SYSTEM, scope=zhoushi, unit_id=party.unit.pk, year=2025).rows == []
    with pytest.raises(NotFound):  # the other unit is neither located nor employing anyone there
        selectors.unit_report(actor=SYSTEM, scope=zhoushi, unit_id=party.other_unit.pk, year=2025)


def test_future_services_are_refused(party: Party) -> None:
    m = employed_member(party, seq=95, name="丙")
    tomorrow = clock.now().date().replace(year=clock.now().year + 1)
    with pytest.raises(DomainError, match="不能晚于今天"):
        _service(m, "volunteer", tomorrow)
    assert isinstance(clock.now(), datetime)
