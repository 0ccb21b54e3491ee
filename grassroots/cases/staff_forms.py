"""Forms of the staff case pages: one form per step of the loop, the patrol report, list filters.

Every step form carries ``expected_version`` (optimistic concurrency) and the workflow role it
acts in; photos come in the same POST and are uploaded by the view through ``photo_upload``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from grassroots.accounts.models import Department
from grassroots.cases.models import CASE_STATE_CHOICES, Category, Channel
from grassroots.cases.workflow import MAX_PHOTOS, Action, Role
from grassroots.places.models import Area, Building


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Up to ``MAX_PHOTOS`` images in one input (the content is checked by ``photo_upload``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        cleaned = [super(MultipleFileField, self).clean(f, initial) for f in files]
        if self.required and not cleaned:
            raise forms.ValidationError("请上传照片。")
        if len(cleaned) > MAX_PHOTOS:
            raise forms.ValidationError(f"照片最多{MAX_PHOTOS}张。")
        return cleaned


def photos_field(label: str) -> MultipleFileField:
    return MultipleFileField(label=label, help_text=f"最多 {MAX_PHOTOS} 张，JPEG、PNG 或 WebP，每张不超过 10 MB。")


def reason_field(label: str = "原因") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写原因。"},
    )


def active_departments(covering: str | None = None) -> Any:
    """Active departments; with ``covering``, only those whose area holds that path (a case's)."""
    found = Department.objects.filter(is_active=True)
    if covering is not None:
        parts = covering.split(".")
        found = found.filter(path__in=[".".join(parts[: i + 1]) for i in range(len(parts))])
    return found.order_by("path", "name")


# Which inputs each step asks for (beyond the hidden fields every step form has).
REASON_ACTIONS = {
    Action.reject: "退单原因",
    Action.escalate_to_arbitration: "提请仲裁的理由",
    Action.arbitrate: "仲裁理由",
    Action.verify_fail: "核实不通过的原因",
    Action.cancel: "作废原因",
    Action.reopen: "重启原因",
}
DEPARTMENT_ACTIONS = (Action.whistle, Action.re_dispatch, Action.arbitrate)
# Steps that show the smart-dispatch suggestions and may change the category (智能分派).
ROUTED_ACTIONS = (Action.accept, Action.whistle, Action.re_dispatch)
PHOTO_ACTIONS = {
    Action.resolve: "办结照片",
    Action.begin_verification: "现场照片",
    Action.verify_pass: "核实照片",
    Action.verify_fail: "核实照片",
}
# The service's field names → this form's.
FIELD_NAMES = {
    "reason": "reason",
    "result": "result",
    "departments": "departments",
    "photos": "photos",
    "target_case_id": "target",
    "category": "category",
}


def leaf_categories() -> Any:
    """Active categories without children: what a case can be filed under."""
    return Category.objects.filter(is_active=True, children__isnull=True).order_by("sort", "code")


class ActionForm(forms.Form):
    """One step of the loop; the fields depend on ``action``."""

    action = forms.CharField(widget=forms.HiddenInput)
    role = forms.CharField(widget=forms.HiddenInput)
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    next = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        action: Action,
        role: Role,
        version: int,
        departments: Iterable[int] = (),
        category: int | None = None,
        case_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].update(action=action.value, role=role.value, expected_version=version)
        # One page holds several step forms: ids stay unique, names stay plain.
        kwargs.setdefault("auto_id", f"id_{action.value}_%s")
        super().__init__(*args, **kwargs)
        self.step = action
        self.step_role = role
        if action in ROUTED_ACTIONS:
            self.fields["category"] = forms.ModelChoiceField(
                label="事项分类",
                queryset=leaf_categories(),
                required=False,
                initial=category,
                empty_label="不变",
                help_text="可按下方智能分派建议一键选择；不变则保留上报时的分类。",
            )
        if action in DEPARTMENT_ACTIONS:
            self.fields["departments"] = forms.ModelMultipleChoiceField(
                label="承办部门",
                # A department receives cases within its own area only: never offer another district's.
                queryset=active_departments(case_path),
                widget=forms.CheckboxSelectMultiple,
                initial=list(departments),
                error_messages={"required": "请选择承办部门。"},
            )
        if action in REASON_ACTIONS:
            self.fields["reason"] = reason_field(REASON_ACTIONS[action])
        if action is Action.resolve:
            self.fields["result"] = forms.CharField(
                label="办理结果",
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3}),
                error_messages={"required": "请填写办理结果。"},
            )
        if action in PHOTO_ACTIONS:
            self.fields["photos"] = photos_field(PHOTO_ACTIONS[action])
        if action is Action.merge:
            self.fields["target"] = forms.CharField(
                label="合并到案件（编号）",
                max_length=20,
                help_text="如 2026-000123；只能合并到同一网格内的案件。",
                error_messages={"required": "请选择合并到的案件。"},
            )

    @property
    def has_files(self) -> bool:
        return "photos" in self.fields

    @property
    def label(self) -> str:
        return self.step.label

    def visible_inputs(self) -> list[Any]:
        return [f for f in self if not f.is_hidden]


# --- the patrol report -------------------------------------------------------------------------


def building_choices(buildings: Iterable[Building]) -> list[Any]:
    """Buildings grouped by compound (optgroups); buildings outside any compound last."""
    groups: dict[str, list[tuple[str, str]]] = {}
    loose: list[tuple[str, str]] = []
    for b in buildings:
        label = f"{b.name}（{b.grid.name}）"
        if b.compound_id and b.compound is not None:
            groups.setdefault(b.compound.name, []).append((str(b.pk), label))
        else:
            loose.append((str(b.pk), label))
    choices: list[Any] = [("", "不选（使用手机定位）")]
    choices += list(groups.items())
    if loose:
        choices.append(("不属于小区的楼栋", loose))
    return choices


class PatrolForm(forms.Form):
    category = forms.ModelChoiceField(
        label="事项分类",
        queryset=Category.objects.filter(is_active=True).order_by("sort", "code"),
        empty_label="请选择",
        error_messages={"required": "请选择事项分类。"},
    )
    description = forms.CharField(
        label="问题描述",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "发现了什么问题、在哪个位置、影响多大"}),
        error_messages={"required": "请填写问题描述。"},
    )
    photos = photos_field("现场照片")
    building = forms.ChoiceField(label="所在楼栋", required=False)
    lon = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-180, max_value=180)
    lat = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-90, max_value=90)
    address_text = forms.CharField(label="位置说明（选填）", max_length=255, required=False)

    def __init__(self, *args: Any, buildings: list[Building], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.buildings = {str(b.pk): b for b in buildings}
        field = self.fields["building"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = building_choices(buildings)

    def clean_building(self) -> Building | None:
        value = self.cleaned_data.get("building") or ""
        return self.buildings.get(value) if value else None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_point = data.get("lon") is not None and data.get("lat") is not None
        if not has_point and data.get("building") is None and "building" not in self.errors:
            self.add_error("building", "请使用手机定位，或选择所在楼栋。")
        return data


# --- list filters ------------------------------------------------------------------------------


class FilterForm(forms.Form):
    """GET filters; a bad value is dropped rather than refused."""

    category = forms.ModelChoiceField(
        label="事项", queryset=Category.objects.order_by("sort", "code"), required=False, empty_label="全部事项"
    )
    channel = forms.ChoiceField(label="来源", choices=[("", "全部来源"), *Channel.choices], required=False)

    def values(self) -> dict[str, Any]:
        self.is_valid()  # invalid fields are simply left out of cleaned_data
        data = self.cleaned_data
        return {
            "category_id": data["category"].pk if data.get("category") else None,
            "channel": data.get("channel") or "",
        }


class GridChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.parent.name if obj.parent_id else ''} {obj.name}".strip()


class QueueFilterForm(FilterForm):
    grid = GridChoiceField(label="网格", queryset=Area.objects.none(), required=False, empty_label="全部网格")

    def __init__(self, *args: Any, grids: list[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["grid"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Area.objects.filter(pk__in=[g.pk for g in grids]).select_related("parent").order_by("path")
        self.grid_list = grids

    def values(self) -> dict[str, Any]:
        result = super().values()
        grid = self.cleaned_data.get("grid")
        result["grid_id"] = grid.pk if grid else None
        return result


class ListFilterForm(FilterForm):
    state = forms.ChoiceField(label="状态", choices=[("", "全部状态"), *CASE_STATE_CHOICES], required=False)
    overdue = forms.ChoiceField(label="超期", choices=[("", "不限"), ("1", "已超期"), ("0", "未超期")], required=False)
    date_from = forms.DateField(label="上报日期自", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="至", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    field_order = ["state", "category", "channel", "overdue", "date_from", "date_to"]

    def values(self) -> dict[str, Any]:
        result = super().values()
        data = self.cleaned_data
        overdue = data.get("overdue") or ""
        result.update(
            state=data.get("state") or "",
            overdue=None if overdue == "" else overdue == "1",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
        return result
