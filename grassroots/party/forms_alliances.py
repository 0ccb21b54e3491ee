"""Forms for alliances, member units, pairings, the rotation and the five lists.

Choices come from the selectors (the user's scope); a unit located elsewhere (a district agency)
is named by its unified social credit code instead.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from grassroots.core.ids import InvalidCreditCode, parse_credit_code
from grassroots.party.models import ItemStatus, ListKind, PartyOrg
from grassroots.party.rotation import PERIOD_LENGTHS
from grassroots.party.selectors import alliances as selectors
from grassroots.places.models import Area
from grassroots.registry.models import Unit

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ChoicesMixin(forms.Form):
    def _choices(self, name: str) -> forms.ModelChoiceField:
        return cast(forms.ModelChoiceField, self.fields[name])


class UnitChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.credit_code}）" if obj.credit_code else str(obj.name)


class AllianceForm(ChoicesMixin):
    area = forms.ModelChoiceField(label="所属社区/街道", queryset=Area.objects.none(), empty_label="请选择")
    name = forms.CharField(label="联盟名称", max_length=100)
    lead_org = forms.ModelChoiceField(
        label="牵头党组织", queryset=PartyOrg.objects.none(), required=False, empty_label="（无）"
    )

    def __init__(self, *args: Any, scope: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choices("area").queryset = selectors.alliance_areas(scope)
        self._choices("lead_org").queryset = selectors.party_orgs(scope)
        if editing:
            del self.fields["area"]


class UnitPickMixin(ChoicesMixin):
    unit = UnitChoice(label="单位", queryset=Unit.objects.none(), required=False, empty_label="请选择")
    credit_code = forms.CharField(
        label="或填统一社会信用代码",
        max_length=30,
        required=False,
        help_text="辖区外的单位（如区级机关）按信用代码查找。",
    )

    def set_units(self, units: QuerySet[Unit]) -> None:
        self._choices("unit").queryset = units

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw = (data.get("credit_code") or "").strip()
        if raw:
            try:
                code = parse_credit_code(raw)
            except InvalidCreditCode as exc:
                self.add_error("credit_code", str(exc))
                return data
            unit = selectors.unit_by_credit_code(code)
            if unit is None:
                self.add_error("credit_code", f"未找到统一社会信用代码为 {code} 的单位，请先在实有单位中登记。")
                return data
            if data.get("unit") is not None and data["unit"].pk != unit.pk:
                self.add_error("credit_code", "所选单位与信用代码不一致。")
                return data
            data["unit"] = unit
        elif data.get("unit") is None and "unit" not in self.errors:
            self.add_error("unit", "请选择单位，或填写统一社会信用代码。")
        return data


class MemberAddForm(UnitPickMixin):
    joined_on = forms.DateField(label="加入日期", widget=DATE)
    contact_name = forms.CharField(label="联络人", max_length=50, required=False)

    def __init__(self, *args: Any, scope: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_units(selectors.unit_choices(scope))


class DateForm(forms.Form):
    on = forms.DateField(label="日期", widget=DATE)


class PairingForm(UnitPickMixin):
    community = forms.ModelChoiceField(label="结对社区", queryset=Area.objects.none(), empty_label="请选择")
    since = forms.DateField(label="结对日期", widget=DATE)
    content = forms.CharField(
        label="结对内容", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    field_order = ["unit", "credit_code", "community", "since", "content"]

    def __init__(self, *args: Any, scope: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_units(selectors.unit_choices(scope))
        self._choices("community").queryset = selectors.communities(scope)


class RotationForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    length = forms.ChoiceField(label="轮值周期", choices=list(PERIOD_LENGTHS.items()), initial="month")
    rewrite_past = forms.BooleanField(
        label="重写已开始的期次", required=False, help_text="默认保留已开始的期次，只重排以后的期次。"
    )


class ItemForm(ChoicesMixin):
    kind = forms.ChoiceField(label="清单", choices=ListKind.choices)
    title = forms.CharField(label="事项", max_length=200)
    detail = forms.CharField(label="说明", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    owner_unit = UnitChoice(label="责任单位", queryset=Unit.objects.none(), required=False, empty_label="（无）")
    owner_name = forms.CharField(label="责任人", max_length=50, required=False)
    due_on = forms.DateField(label="完成时限", required=False, widget=DATE)

    def __init__(self, *args: Any, units: QuerySet[Unit], editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choices("owner_unit").queryset = units
        if editing:
            del self.fields["kind"]


class ItemStatusForm(forms.Form):
    status = forms.ChoiceField(label="状态", choices=ItemStatus.choices)
    note = forms.CharField(label="说明", max_length=300, required=False)
