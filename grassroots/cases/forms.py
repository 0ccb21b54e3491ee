"""Forms for the holiday table and the duty-list pages; deadlines are typed as people say them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from grassroots.accounts.models import Department
from grassroots.cases.models import WHISTLE_CHOICES, Category, CategoryKind
from grassroots.cases.services.deadlines import parse_deadline
from grassroots.cases.workflow import DeadlineSpec
from grassroots.core.errors import DomainError
from grassroots.places.models import Area, AreaLevel

DEADLINE_HELP = "如“30分钟”“2小时”“7个工作日”；留空则按哨类的默认时限。"


class UploadMixin(forms.Form):
    file = forms.FileField(label="文件（xlsx、xls 或 csv）")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = int(settings.IMPORT_MAX_BYTES)
        if upload.size > limit:
            raise forms.ValidationError(f"文件过大：最大允许 {limit / 1048576:.1f} MB。")
        return upload


class CalendarImportForm(UploadMixin):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    mark_complete = forms.BooleanField(label="导入后标记该年度已完整录入", required=False, initial=True)
    field_order = ["year", "file", "mark_complete"]


class CalendarDayForm(forms.Form):
    date = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label="类型", choices=[("holiday", "放假"), ("workday", "上班")])
    name = forms.CharField(label="名称", max_length=50, required=False, help_text="如“春节”“调休上班”。")
    note = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args: Any, year: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.year = year

    def clean_date(self) -> Any:
        day = self.cleaned_data["date"]
        if day.year != self.year:
            raise forms.ValidationError(f"日期必须在 {self.year} 年内。")
        return day


class DeadlineFields(forms.Form):
    acknowledge = forms.CharField(label="报到时限", max_length=20, required=False, help_text=DEADLINE_HELP)
    handle = forms.CharField(label="办结时限", max_length=20, required=False, help_text=DEADLINE_HELP)

    def _deadline(self, name: str) -> DeadlineSpec | None:
        try:
            return parse_deadline(self.cleaned_data.get(name, ""), field=name)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_acknowledge(self) -> DeadlineSpec | None:
        return self._deadline("acknowledge")

    def clean_handle(self) -> DeadlineSpec | None:
        return self._deadline("handle")


class CategoryForm(DeadlineFields):
    code = forms.CharField(
        label="编码", max_length=64, help_text="英文小写，如 environment.exposed_garbage；创建后不能修改。"
    )
    name = forms.CharField(label="名称", max_length=100)
    parent = forms.ModelChoiceField(
        label="上级分类", queryset=Category.objects.none(), required=False, empty_label="（无，作为大类）"
    )
    kind = forms.ChoiceField(label="类型", choices=CategoryKind.choices)
    default_whistle_kind = forms.ChoiceField(label="默认哨类", choices=WHISTLE_CHOICES)
    sort = forms.IntegerField(label="排序", min_value=0, max_value=32767, initial=0, required=False)
    is_active = forms.BooleanField(label="启用", required=False, initial=True)
    field_order = [
        *("code", "name", "parent", "kind", "default_whistle_kind"),
        *("acknowledge", "handle", "sort", "is_active"),
    ]

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:  # the code and the parent are fixed once assignments and cases refer to them
            del self.fields["code"], self.fields["parent"]
        else:
            parent = self.fields["parent"]
            assert isinstance(parent, forms.ModelChoiceField)
            parent.queryset = Category.objects.filter(parent__parent__isnull=True).order_by("sort", "code")


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{'　' * obj.depth}{obj.name}（{obj.kind_label}）"


class AssignmentForm(DeadlineFields):
    area = AreaChoiceField(label="适用区域", queryset=Area.objects.none(), empty_label="请选择")
    departments = forms.ModelMultipleChoiceField(
        label="责任部门", queryset=Department.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    whistle_kind = forms.ChoiceField(label="哨类", choices=[("", "（按事项默认）"), *WHISTLE_CHOICES], required=False)
    field_order = ["area", "departments", "whistle_kind", "acknowledge", "handle"]

    def __init__(self, *args: Any, areas: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area = self.fields["area"]
        assert isinstance(area, forms.ModelChoiceField)
        # Grids are left out: duties are set per community or above, and the list stays short.
        area.queryset = areas.exclude(level=AreaLevel.GRID).order_by("path")
        depts = self.fields["departments"]
        assert isinstance(depts, forms.ModelMultipleChoiceField)
        depts.queryset = departments


class DutyImportForm(UploadMixin):
    pass
