"""Forms of the party pages; choices are limited to the user's scope."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from grassroots.core.scope import Scope
from grassroots.party.models import MemberKind, OrgLevel, PartyMember, PartyOrg, ServiceKind
from grassroots.places.models import Area, AreaLevel, Building
from grassroots.registry.models import Unit

MAX_CHOICES = 1000


def _areas(scope: Scope, levels: tuple[str, ...]) -> Any:
    return Area.objects.active().in_scope(scope).filter(level__in=levels).order_by("path")


class AreaChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{'　' * max(0, obj.depth - 2)}{obj.name}（{obj.kind_label}）"


class OrgChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.get_level_display()}）"


class OrgForm(forms.Form):
    level = forms.ChoiceField(label="层级", choices=OrgLevel.choices)
    name = forms.CharField(label="名称", max_length=100)
    area = AreaChoice(label="所在区域", queryset=Area.objects.none())
    building = forms.ModelChoiceField(label="楼栋（楼栋党小组）", queryset=Building.objects.none(), required=False)
    unit = forms.ModelChoiceField(label="所属单位（驻区单位党组织）", queryset=Unit.objects.none(), required=False)
    parent = OrgChoice(
        label="上级党组织（仅驻区单位党组织可选；其他层级自动挂到上一级区域的组织）",
        queryset=PartyOrg.objects.none(),
        required=False,
    )
    founded_on = forms.DateField(label="成立日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        levels = (AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY, AreaLevel.GRID)
        self.fields["area"].queryset = _areas(scope, levels)  # type: ignore[attr-defined]
        self.fields["building"].queryset = (  # type: ignore[attr-defined]
            Building.objects.in_scope(scope).select_related("compound").order_by("path", "id")[:MAX_CHOICES]
        )
        self.fields["unit"].queryset = Unit.objects.in_scope(scope).order_by("name")  # type: ignore[attr-defined]
        self.fields["parent"].queryset = PartyOrg.objects.in_scope(scope).filter(  # type: ignore[attr-defined]
            is_active=True, level__in=[OrgLevel.WORKING_COMMITTEE, OrgLevel.COMMUNITY_COMMITTEE]
        )


class OrgEditForm(forms.Form):
    name = forms.CharField(label="名称", max_length=100)
    founded_on = forms.DateField(label="成立日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=200)


class SeatForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50)
    post = forms.ChoiceField(label="职务", choices=[(p, p) for p in ("书记", "副书记", "委员", "兼职委员")])
    from_department = forms.CharField(
        label="来自单位/部门（兼职委员必填，如派出所、城管中队、共建单位）", max_length=100, required=False
    )
    since = forms.DateField(label="任职日期", widget=forms.DateInput(attrs={"type": "date"}))


class MemberForm(forms.Form):
    kind = forms.ChoiceField(label="党员类别", choices=MemberKind.choices)
    org = OrgChoice(label="所在党组织", queryset=PartyOrg.objects.none(), required=False)
    employer = forms.ModelChoiceField(label="工作单位", queryset=Unit.objects.none(), required=False)
    residence_area = AreaChoice(label="居住地（社区或网格）", queryset=Area.objects.none(), required=False)
    joined_on = forms.DateField(label="入党日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = PartyOrg.objects.in_scope(scope).filter(  # type: ignore[attr-defined]
            is_active=True
        )
        # An employer may be anywhere: employed members work outside the community they live in.
        self.fields["employer"].queryset = Unit.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["residence_area"].queryset = _areas(  # type: ignore[attr-defined]
            scope, (AreaLevel.COMMUNITY, AreaLevel.GRID)
        )


class CheckinForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50)
    id_number = forms.CharField(
        label="身份证号", max_length=18, widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"})
    )
    phone = forms.CharField(label="手机号", max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"}))
    skills = forms.CharField(label="个人特长（选填）", max_length=200, required=False)
    wishes = forms.CharField(label="服务意向（选填，如环境整治、助老、文明劝导）", max_length=200, required=False)


class DecisionForm(forms.Form):
    note = forms.CharField(label="说明（退回、转出必填）", max_length=300, required=False)


class MemberChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.person.name}（{obj.person.id_number_masked}）"


class ServiceForm(forms.Form):
    member = MemberChoice(label="党员", queryset=PartyMember.objects.none())
    kind = forms.ChoiceField(label="类型", choices=ServiceKind.choices)
    on = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}))
    hours = forms.DecimalField(label="时长（小时）", min_value=0, max_value=24, decimal_places=1, initial=0)
    description = forms.CharField(label="内容", max_length=300)
    confirmed = forms.BooleanField(label="直接确认（社区已核实）", required=False)

    def __init__(self, *args: Any, scope: Scope, member: PartyMember | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        qs = (
            PartyMember.objects.in_scope(scope)
            .filter(is_active=True)
            .select_related("person")
            .defer("person__id_number_cipher", "person__phone_cipher")
            .order_by("person__name_pinyin", "id")
        )
        if member is not None:
            qs = qs.filter(pk=member.pk)
        self.fields["member"].queryset = qs  # type: ignore[attr-defined]
        if member is not None:
            self.fields["member"].initial = member.pk
            self.fields["member"].widget = forms.HiddenInput()


def this_year(today: date) -> int:
    return today.year
