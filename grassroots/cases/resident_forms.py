"""Forms of the resident H5 pages: report a problem, rate the result, withdraw a report."""

from __future__ import annotations

from typing import Any

from django import forms

from grassroots.cases.models import Category, CategoryKind
from grassroots.cases.workflow import Rating

DESCRIPTION_MAX = 1000
KIND_ORDER = {CategoryKind.COMMUNITY.value: 0, CategoryKind.EVENT.value: 1, CategoryKind.COMPONENT.value: 2}


def category_choices() -> list[tuple[str, Any]]:
    """Active categories a resident can pick, grouped under their parent (or their kind at the top level).

    Only leaves are offered: "道路" is a heading, "道路坑洼" is what one reports.
    """
    rows = list(Category.objects.filter(is_active=True).select_related("parent"))
    active = {c.pk for c in rows}
    has_children = {c.parent_id for c in rows if c.parent_id is not None}
    kinds = dict(CategoryKind.choices)
    groups: dict[tuple[int, str], list[tuple[int, str]]] = {}
    for category in rows:
        if category.pk in has_children:
            continue
        if category.parent_id is not None and category.parent_id not in active:
            continue  # a child of a switched-off heading is switched off with it
        label = kinds.get(category.kind, "")
        if category.parent is not None:
            label = f"{category.parent.name}（{label}）" if label else category.parent.name
        key = (KIND_ORDER.get(category.kind, 9), label)
        groups.setdefault(key, []).append((category.pk, category.name))
    choices: list[tuple[str, Any]] = [("", "请选择问题类型")]
    for (_, label), options in sorted(groups.items()):
        choices.append((label, options))
    return choices


class ReportForm(forms.Form):
    category = forms.TypedChoiceField(label="问题类型", coerce=int, error_messages={"required": "请选择问题类型。"})
    description = forms.CharField(
        label="问题描述",
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "请描述问题的情况和具体位置，如“3号楼东侧路灯不亮”。"}),
        error_messages={"required": "请填写问题描述。", "max_length": f"问题描述最多{DESCRIPTION_MAX}字。"},
    )
    # Where: a point (phone or map pin), or a building from its QR code.
    lon = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    coord = forms.ChoiceField(
        required=False, widget=forms.HiddenInput, choices=[("", ""), ("wgs84", "WGS-84"), ("gcj02", "GCJ-02")]
    )
    source = forms.ChoiceField(
        required=False, widget=forms.HiddenInput, choices=[("", ""), ("gps", "定位"), ("map", "地图")]
    )
    building = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    entrance = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    # Photos uploaded by an earlier try of this form that failed for another reason: kept, not re-picked.
    staged = forms.TypedMultipleChoiceField(required=False, coerce=int, widget=forms.MultipleHiddenInput)

    def __init__(self, *args: Any, staged_choices: list[int] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.TypedChoiceField)
        category.choices = category_choices()
        staged = self.fields["staged"]
        assert isinstance(staged, forms.TypedMultipleChoiceField)
        staged.choices = [(str(pk), str(pk)) for pk in staged_choices or []]
        staged.error_messages["invalid_choice"] = "之前上传的照片已失效，请重新选择照片。"

    def clean_description(self) -> str:
        text = str(self.cleaned_data["description"]).strip()
        if len(text) < 5:
            raise forms.ValidationError("请用至少5个字描述问题。")
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("building"):
            return data
        if self.has_error("lon") or self.has_error("lat"):
            return data
        if data.get("lon") is None or data.get("lat") is None:
            self.add_error(None, "请提供问题位置：点“使用我的位置”，或在地图上点选位置。")
        return data


class RatingForm(forms.Form):
    rating = forms.ChoiceField(
        label="您对办理结果满意吗？",
        choices=[(r.value, r.label) for r in Rating],
        widget=forms.RadioSelect,
        error_messages={"required": "请选择满意度。", "invalid_choice": "请选择满意度。"},
    )
    comment = forms.CharField(
        label="意见和建议",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "选填；不满意时请说明原因。"}),
        error_messages={"max_length": "意见最多500字。"},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("rating") == Rating.unsatisfied.value and not str(data.get("comment", "")).strip():
            self.add_error("comment", "请说明不满意的原因，便于重新办理。")
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="撤回原因",
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "如：问题已自行解决、重复反映"}),
        error_messages={"required": "请填写撤回原因。", "max_length": "撤回原因最多200字。"},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def clean_reason(self) -> str:
        reason = str(self.cleaned_data["reason"]).strip()
        if not reason:
            raise forms.ValidationError("请填写撤回原因。")
        return reason
