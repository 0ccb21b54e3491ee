"""Upload form; the mapping page's selects are read straight from POST (one per header)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from grassroots.core.scope import Scope
from grassroots.registry.imports import selectors


class UploadForm(forms.Form):
    source = forms.ModelChoiceField(label="数据来源", queryset=selectors.source_list(), empty_label="请选择")
    file = forms.FileField(label="文件（xlsx、xls 或 csv）")
    sheet = forms.CharField(label="工作表名称（可选，默认第一个）", required=False, max_length=100)
    area = forms.ModelChoiceField(
        label="导入到区域", queryset=selectors.import_areas(scope=Scope.nothing()), required=False, empty_label="请选择"
    )

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        source_field = self.fields["source"]
        assert isinstance(source_field, forms.ModelChoiceField)
        source_field.queryset = selectors.source_list()
        if scope.is_everything:
            area_field = self.fields["area"]
            assert isinstance(area_field, forms.ModelChoiceField)
            area_field.queryset = selectors.import_areas(scope=scope)
            self.fields["area"].required = True
            self.fields["area"].help_text = "管理员必须指定区域：地址只在该区域内匹配房屋。"
        else:
            del self.fields["area"]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = int(settings.IMPORT_MAX_BYTES)
        if upload.size > limit:
            raise forms.ValidationError(f"文件过大：最大允许 {limit / 1048576:.1f} MB。")
        return upload
