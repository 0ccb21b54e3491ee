"""Forms of the mobilisation pages: the leader's start form and the recipient's decline reason."""

from __future__ import annotations

from typing import Any

from django import forms

from grassroots.places.models import Area, AreaLevel
from grassroots.volunteers.models import Audience, MobilisationMode

MOBILISABLE_LEVELS = (AreaLevel.DISTRICT, AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY, AreaLevel.GRID)


class MobilisationStartForm(forms.Form):
    area = forms.ModelChoiceField(label="动员范围", queryset=Area.objects.none(), empty_label=None)
    audiences = forms.MultipleChoiceField(
        label="动员对象", choices=Audience.choices, widget=forms.CheckboxSelectMultiple, initial=list(Audience.values)
    )
    mode = forms.ChoiceField(
        label="模式", choices=MobilisationMode.choices, widget=forms.RadioSelect, initial=MobilisationMode.NORMAL
    )
    title = forms.CharField(label="标题", max_length=100)
    message = forms.CharField(label="动员内容", widget=forms.Textarea(attrs={"rows": 4}))
    assembly_point = forms.CharField(label="集合地点", max_length=200, required=False)
    assemble_by = forms.DateTimeField(
        label="集合时间",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args: Any, areas: list[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = [a.pk for a in areas if a.level in MOBILISABLE_LEVELS]
        field = self.fields["area"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Area.objects.filter(pk__in=allowed).order_by("path")
        field.label_from_instance = lambda a: f"{'　' * max(0, a.depth - 1)}{a.name}"  # type: ignore[method-assign,assignment]
        if allowed and not self.is_bound:
            self.initial.setdefault("area", allowed[0])


class DeclineForm(forms.Form):
    reason = forms.CharField(label="原因（选填）", max_length=200, required=False)
