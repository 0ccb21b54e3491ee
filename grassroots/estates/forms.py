"""Forms of the estates pages; choices are limited to the user's scope."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from grassroots.core.scope import Scope
from grassroots.estates.models import (
    CommitteePost,
    CrossDirection,
    DormitoryZone,
    HeadLevel,
    OwnersCommittee,
    OwnersCommitteeMember,
    PartyPost,
    Qualification,
    ReportKind,
)
from grassroots.party.models import PartyOrg
from grassroots.places.models import Building, Compound
from grassroots.registry.models import Unit, UnitKind

DATE = forms.DateInput(attrs={"type": "date"})


class CompoundChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.community.name}）"


class CommitteeForm(forms.Form):
    compound = CompoundChoice(label="小区", queryset=Compound.objects.none())
    name = forms.CharField(label="名称（如：阳光花园第二届业主委员会）", max_length=100)
    term_start = forms.DateField(label="任期起", widget=DATE)
    term_end = forms.DateField(label="任期止（每届不超过五年）", widget=DATE)
    filed_on = forms.DateField(label="备案日期", required=False, widget=DATE)

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["compound"].queryset = (  # type: ignore[attr-defined]
            Compound.objects.in_scope(scope).select_related("community").order_by("path", "name")
        )


class CommitteeEditForm(forms.Form):
    name = forms.CharField(label="名称", max_length=100)
    term_start = forms.DateField(label="任期起", widget=DATE)
    term_end = forms.DateField(label="任期止", widget=DATE)
    filed_on = forms.DateField(label="备案日期", required=False, widget=DATE)

    @classmethod
    def for_committee(cls, committee: OwnersCommittee) -> CommitteeEditForm:
        return cls(
            initial={
                "name": committee.name,
                "term_start": committee.term_start,
                "term_end": committee.term_end,
                "filed_on": committee.filed_on,
            }
        )


class SeatChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.get_post_display()} {obj.person.name}"


class SeatForm(forms.Form):
    """Seat the chosen person; with ``replaces`` the person takes over that member's seat."""

    person = forms.IntegerField(widget=forms.HiddenInput)
    post = forms.ChoiceField(label="职务", choices=CommitteePost.choices, initial=CommitteePost.MEMBER)
    since = forms.DateField(label="任职起（接替时为接替日期）", widget=DATE)
    replaces = SeatChoice(
        label="接替（可选：原委员在接替日期前一天离任）",
        queryset=OwnersCommitteeMember.objects.none(),
        required=False,
    )

    def __init__(self, *args: Any, committee: OwnersCommittee, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["replaces"].queryset = (  # type: ignore[attr-defined]
            committee.members.filter(until__isnull=True)
            .select_related("person")
            .defer("person__id_number_cipher", "person__phone_cipher")
            .order_by("post", "since", "id")
        )


class EndSeatForm(forms.Form):
    seat = forms.IntegerField(widget=forms.HiddenInput)
    until = forms.DateField(label="离任日期", widget=DATE)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="终止原因（任期届满、换届、解散……）", max_length=200)


# --- property companies, fees, surveys, reports ---------------------------------------------------


def _compounds(scope: Scope) -> Any:
    return Compound.objects.in_scope(scope).select_related("community").order_by("path", "name")


class UnitChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.credit_code or '无信用代码'}）"


class CompanyForm(forms.Form):
    unit = UnitChoice(label="单位（实有单位中的企业）", queryset=Unit.objects.none())
    qualification = forms.ChoiceField(label="资质", choices=Qualification.choices, initial=Qualification.NONE)

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = (  # type: ignore[attr-defined]
            Unit.objects.in_scope(scope)
            .filter(kind=UnitKind.ENTERPRISE, property_company__isnull=True)
            .order_by("name")
        )


class ContractForm(forms.Form):
    compound = CompoundChoice(label="小区", queryset=Compound.objects.none())
    start = forms.DateField(label="服务起（原物业公司的合同在前一天结束）", widget=DATE)
    end = forms.DateField(label="服务止（可空）", required=False, widget=DATE)

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["compound"].queryset = _compounds(scope)  # type: ignore[attr-defined]


class EndContractForm(forms.Form):
    contract = forms.IntegerField(widget=forms.HiddenInput)
    end = forms.DateField(label="服务止", widget=DATE)


QUARTERS = [(1, "第一季度"), (2, "第二季度"), (3, "第三季度"), (4, "第四季度")]


class FeeForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(label="季度", choices=QUARTERS, coerce=int)
    billed = forms.IntegerField(label="应缴户数", min_value=1)
    paid = forms.IntegerField(label="实缴户数", min_value=0)


class SurveyForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(label="季度", choices=QUARTERS, coerce=int)
    title = forms.CharField(label="标题", max_length=100)
    questions = forms.CharField(
        label="题目（每行一题，1至10题，按1–5分作答）",
        widget=forms.Textarea(attrs={"rows": 5}),
        initial="您对小区环境卫生是否满意？\n您对小区安全秩序是否满意？\n您对物业报修响应是否满意？",
    )


class ReportForm(forms.Form):
    kind = forms.ChoiceField(label="事项", choices=ReportKind.choices)
    reported_on = forms.DateField(label="报告日期", widget=DATE)
    description = forms.CharField(label="内容", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    amount = forms.DecimalField(label="金额(元，使用公共收益时必填)", required=False, max_digits=12, decimal_places=2)


class RevenueUseForm(forms.Form):
    used_on = forms.DateField(label="使用日期", widget=DATE)
    amount = forms.DecimalField(label="金额(元)", max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    purpose = forms.CharField(label="用途", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


# --- 红色业委会 ---------------------------------------------------------------------------------------


class PartyOrgChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.get_level_display()}）"


class CrossForm(forms.Form):
    person = forms.TypedChoiceField(label="业委会委员（有效党员）", coerce=int)
    party_org = PartyOrgChoice(label="党组织", queryset=PartyOrg.objects.none())
    party_post = forms.ChoiceField(label="党内职务", choices=PartyPost.choices)
    direction = forms.ChoiceField(label="方向", choices=CrossDirection.choices)
    since = forms.DateField(label="起", widget=DATE)

    def __init__(self, *args: Any, scope: Scope, committee: OwnersCommittee, members: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [(m.person_id, m.person.name) for m in members]  # type: ignore[attr-defined]
        self.fields["party_org"].queryset = (  # type: ignore[attr-defined]
            PartyOrg.objects.in_scope(scope)
            .filter(Scope(area_path=committee.path).path_q("path"), is_active=True)
            .order_by("path", "level", "name")
        )


class EndCrossForm(forms.Form):
    appointment = forms.IntegerField(widget=forms.HiddenInput)
    until = forms.DateField(label="结束日期", widget=DATE)


# --- dormitory zones --------------------------------------------------------------------------------


class ZoneForm(forms.Form):
    workers = forms.IntegerField(label="入住员工数", min_value=0)
    staff_full = forms.BooleanField(label="管理人员已配齐", required=False)
    staff_note = forms.CharField(label="管理人员情况", max_length=200, required=False)
    joint_committee_on = forms.DateField(label="联合管委会成立日期（未成立留空）", required=False, widget=DATE)
    joint_committee_note = forms.CharField(label="联合管委会组成", max_length=200, required=False)


class HeadForm(forms.Form):
    person = forms.IntegerField(widget=forms.HiddenInput)
    building = forms.ModelChoiceField(label="楼栋", queryset=Building.objects.none())
    level = forms.ChoiceField(label="类别", choices=HeadLevel.choices)
    floor = forms.IntegerField(label="楼层（楼层长、寝室长）", required=False, min_value=1)
    room = forms.CharField(label="寝室号（寝室长）", max_length=20, required=False)

    def __init__(self, *args: Any, zone: DormitoryZone, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = zone.compound.buildings.order_by("name")  # type: ignore[attr-defined]
