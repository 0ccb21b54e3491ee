"""Forms of the engage pages: plain Django forms; the services do the real checks."""

from __future__ import annotations

from typing import Any

from django import forms

from grassroots.engage.models import ActionKind, MeetingKind, NoticeAudience, NoticeKind, ReviewRating

TEXTAREA = forms.Textarea(attrs={"rows": 4})


def _choices(rows: list[tuple[Any, str]], blank: str) -> list[tuple[Any, str]]:
    return [("", blank), *rows]


class ProposeForm(forms.Form):
    title = forms.CharField(
        label="议题", max_length=100, widget=forms.TextInput(attrs={"placeholder": "一句话说清楚要议的事"})
    )
    description = forms.CharField(label="详细说明", widget=TEXTAREA, max_length=2000)
    grid = forms.TypedChoiceField(label="所在网格", required=False, coerce=int, empty_value=None)
    building = forms.TypedChoiceField(label="楼栋", required=False, coerce=int, empty_value=None)
    place_text = forms.CharField(label="具体地点", max_length=200, required=False)
    lon = forms.FloatField(required=False, widget=forms.HiddenInput)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, grids: list[tuple[int, str]], buildings: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["grid"].choices = _choices(grids, "全社区")  # type: ignore[attr-defined]
        self.fields["building"].choices = _choices(buildings, "不指定楼栋")  # type: ignore[attr-defined]


class StaffProposeForm(ProposeForm):
    """A worker puts a topic forward in a community or grid of their scope (not only their own home)."""

    def __init__(self, *args: Any, grids: list[tuple[int, str]], buildings: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, grids=grids, buildings=buildings, **kwargs)
        area = self.fields["grid"]
        area.label, area.required = "所在社区或网格", True
        area.choices = _choices(grids, "请选择")  # type: ignore[attr-defined]
        area.error_messages["required"] = "请选择议题所在的社区或网格。"


class CommentForm(forms.Form):
    body = forms.CharField(label="我的意见", max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class ReviewForm(forms.Form):
    rating = forms.ChoiceField(label="对办理结果的评价", choices=ReviewRating.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label="意见建议", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label="理由", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class ActionForm(forms.Form):
    kind = forms.ChoiceField(label="办理方式", choices=ActionKind.choices)
    title = forms.CharField(label="办理事项", max_length=200)
    owner = forms.CharField(label="责任人/单位", max_length=100)
    deadline = forms.DateField(label="完成时限", widget=forms.DateInput(attrs={"type": "date"}))
    category = forms.TypedChoiceField(label="案件事项类型", required=False, coerce=int, empty_value=None)
    project = forms.TypedChoiceField(label="志愿服务项目", required=False, coerce=int, empty_value=None)

    def __init__(
        self, *args: Any, categories: list[tuple[int, str]], projects: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _choices(categories, "（转办案件时选择）")  # type: ignore[attr-defined]
        self.fields["project"].choices = _choices(projects, "（关联项目时选择）")  # type: ignore[attr-defined]


class ProgressForm(forms.Form):
    progress = forms.IntegerField(label="进度(%)", min_value=0, max_value=100)
    note = forms.CharField(label="进展说明", max_length=500, required=False)


class AreaChoiceForm(forms.Form):
    area = forms.TypedChoiceField(label="区域", coerce=int)

    def __init__(self, *args: Any, areas: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = areas  # type: ignore[attr-defined]


class MeetingForm(AreaChoiceForm):
    kind = forms.ChoiceField(label="会议形式", choices=MeetingKind.choices)
    title = forms.CharField(label="会议名称", max_length=100, required=False)
    starts_at = forms.DateTimeField(label="会议时间", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    place = forms.CharField(label="会议地点", max_length=200, required=False)


class SettingForm(AreaChoiceForm):
    support_threshold = forms.IntegerField(label="附议门槛(人)", min_value=1, max_value=1000)
    review_days = forms.IntegerField(label="评议期(天)", min_value=1, max_value=90)


class InviteeForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50, required=False)
    capacity = forms.CharField(label="身份", max_length=50, required=False, help_text="居民代表、物业、职能部门等")
    username = forms.CharField(label="平台账号", max_length=150, required=False, help_text="填写后，该居民可参与评议")


class DecisionForm(forms.Form):
    topic = forms.TypedChoiceField(label="议题", coerce=int)
    content = forms.CharField(label="决定事项", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    votes_for = forms.IntegerField(label="赞成", min_value=0)
    votes_against = forms.IntegerField(label="反对", min_value=0)
    votes_abstain = forms.IntegerField(label="弃权", min_value=0)

    def __init__(self, *args: Any, topics: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topic"].choices = topics  # type: ignore[attr-defined]


class MinutesForm(forms.Form):
    minutes = forms.CharField(label="会议纪要", widget=forms.Textarea(attrs={"rows": 6}), required=False)


class NoticeForm(AreaChoiceForm):
    kind = forms.ChoiceField(label="类别", choices=NoticeKind.choices)
    audience = forms.ChoiceField(label="发布对象", choices=NoticeAudience.choices)
    title = forms.CharField(label="标题", max_length=100)
    body = forms.CharField(label="正文", widget=forms.Textarea(attrs={"rows": 6}))
    pinned = forms.BooleanField(label="置顶", required=False)
    expires_at = forms.DateTimeField(
        label="有效期至", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
