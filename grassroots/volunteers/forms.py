"""Forms of the volunteers pages. Choices are limited to what the caller's scope holds; the services
check everything again, so a forged choice still ends in NotFound or a clear message."""

from __future__ import annotations

from typing import Any

from django import forms

from grassroots.places.models import Area, AreaLevel
from grassroots.volunteers.models import BuildingRoleKind, MatchState, Skill, Team, TeamKind

DATE = {"type": "date"}
DATETIME = {"type": "datetime-local"}


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.parent.name if obj.parent_id and obj.level == AreaLevel.GRID else ''} {obj.name}".strip()


def areas_in(scope_q: Any, levels: tuple[str, ...] = (AreaLevel.COMMUNITY, AreaLevel.GRID)) -> Any:
    return Area.objects.active().filter(scope_q, level__in=levels).select_related("parent").order_by("path")


def skills() -> Any:
    return Skill.objects.all()


class SkillsField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=skills(), required=False, widget=forms.CheckboxSelectMultiple, label="技能", **kwargs)


# --- filters (GET; a bad value is dropped, never refused) --------------------------------------------


class VolunteerFilterForm(forms.Form):
    name = forms.CharField(label="姓名", required=False, max_length=50)
    skill = forms.ModelChoiceField(label="技能", queryset=skills(), required=False, empty_label="全部技能")
    grid = AreaChoiceField(label="网格", queryset=Area.objects.none(), required=False, empty_label="全部网格")
    talent = forms.ChoiceField(label="类别", choices=[("", "全部"), ("1", "社区能人"), ("0", "志愿者")], required=False)

    def __init__(self, *args: Any, scope_q: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["grid"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = areas_in(scope_q, (AreaLevel.GRID,))

    def values(self) -> dict[str, Any]:
        self.is_valid()
        data = self.cleaned_data
        talent = data.get("talent") or ""
        return {
            "name": data.get("name") or "",
            "skill": data.get("skill"),
            "grid": data.get("grid"),
            "talent": None if talent == "" else talent == "1",
        }


class ActivityFilterForm(forms.Form):
    when = forms.ChoiceField(
        label="时间",
        choices=[("", "全部"), ("upcoming", "未结束"), ("past", "已结束"), ("cancelled", "已取消")],
        required=False,
    )


class NeedFilterForm(forms.Form):
    state = forms.ChoiceField(label="状态", choices=[("", "全部状态"), *MatchState.choices], required=False)
    skill = forms.ModelChoiceField(label="类别", queryset=skills(), required=False, empty_label="全部类别")


# --- writes ------------------------------------------------------------------------------------


class PersonSearchForm(forms.Form):
    q = forms.CharField(
        label="查找居民", max_length=100, required=False, help_text="姓名、拼音、身份证号、手机号或地址"
    )


class AppointForm(forms.Form):
    person = forms.IntegerField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(label="任命为", choices=BuildingRoleKind.choices)
    entrance = forms.TypedChoiceField(label="单元（单元长）", coerce=int, required=False, empty_value=None)
    since = forms.DateField(label="任职起", widget=forms.DateInput(attrs=DATE))

    def __init__(self, *args: Any, entrances: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["entrance"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *[(e.pk, f"{e.number}单元") for e in entrances]]


class EndRoleForm(forms.Form):
    until = forms.DateField(label="离任日期", widget=forms.DateInput(attrs=DATE))


class VolunteerForm(forms.Form):
    skills = SkillsField()
    is_talent = forms.BooleanField(label="社区能人", required=False)
    talent_note = forms.CharField(label="专长说明", max_length=200, required=False)
    weekly_hours = forms.IntegerField(label="每周可服务(小时)", min_value=0, max_value=80, initial=2)


class VolunteerEditForm(VolunteerForm):
    is_active = forms.BooleanField(label="在册", required=False, initial=True)


class RegisterForm(VolunteerForm):
    person = forms.IntegerField(widget=forms.HiddenInput)


class TeamForm(forms.Form):
    name = forms.CharField(label="队伍名称", max_length=100)
    kind = forms.ChoiceField(label="类别", choices=TeamKind.choices)
    area = AreaChoiceField(label="所属区域", queryset=Area.objects.none())
    formed_on = forms.DateField(label="成立日期", widget=forms.DateInput(attrs=DATE))

    def __init__(self, *args: Any, scope_q: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["area"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = areas_in(scope_q)


class MemberForm(forms.Form):
    person = forms.IntegerField(widget=forms.HiddenInput)
    as_leader = forms.BooleanField(label="设为队长", required=False)


class ActivityForm(forms.Form):
    title = forms.CharField(label="活动名称", max_length=100)
    area = AreaChoiceField(label="所属区域", queryset=Area.objects.none())
    place = forms.CharField(label="地点", max_length=200)
    starts_at = forms.DateTimeField(label="开始时间", widget=forms.DateTimeInput(attrs=DATETIME))
    ends_at = forms.DateTimeField(label="结束时间", widget=forms.DateTimeInput(attrs=DATETIME))
    capacity = forms.IntegerField(label="名额（0 为不限）", min_value=0, max_value=10000, initial=0)
    skill = forms.ModelChoiceField(label="所需技能", queryset=skills(), required=False, empty_label="不限")
    team = forms.ModelChoiceField(label="组织队伍", queryset=Team.objects.none(), required=False, empty_label="无")
    solves_problem = forms.BooleanField(label="计为“解决实际问题”", required=False)
    description = forms.CharField(label="内容", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, scope_q: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area = self.fields["area"]
        team = self.fields["team"]
        assert isinstance(area, forms.ModelChoiceField) and isinstance(team, forms.ModelChoiceField)
        area.queryset = areas_in(scope_q)
        team.queryset = Team.objects.filter(scope_q, dissolved_on__isnull=True).order_by("path", "name")


class SignupForm(forms.Form):
    person = forms.IntegerField(widget=forms.HiddenInput)


class AttendanceForm(forms.Form):
    attended = forms.TypedChoiceField(
        label="签到", choices=[("1", "到场"), ("0", "缺席")], coerce=lambda v: v == "1", initial="1"
    )
    hours = forms.DecimalField(label="时长(小时)", min_value=0, max_digits=4, decimal_places=1, required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(label="取消原因", max_length=200)


class NeedForm(forms.Form):
    title = forms.CharField(label="需求", max_length=200)
    skill = forms.ModelChoiceField(label="类别", queryset=skills())
    area = AreaChoiceField(label="所属区域", queryset=Area.objects.none())
    demand = forms.IntegerField(label="需要(人次/份)", min_value=1, max_value=1000, initial=1)
    due_on = forms.DateField(label="期望完成", required=False, widget=forms.DateInput(attrs=DATE))
    lon = forms.FloatField(label="经度", required=False)
    lat = forms.FloatField(label="纬度", required=False)
    detail = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, scope_q: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["area"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = areas_in(scope_q)


class ResourceForm(forms.Form):
    title = forms.CharField(label="资源", max_length=200)
    skill = forms.ModelChoiceField(label="类别", queryset=skills())
    area = AreaChoiceField(label="所属区域", queryset=Area.objects.none())
    capacity = forms.IntegerField(label="可提供(人次/份)", min_value=1, max_value=1000, initial=1)
    unit = forms.ModelChoiceField(label="提供单位", queryset=Area.objects.none(), required=False, empty_label="—")
    volunteer = forms.ModelChoiceField(
        label="提供人（志愿者/能人）", queryset=Area.objects.none(), required=False, empty_label="—"
    )
    lon = forms.FloatField(label="经度", required=False)
    lat = forms.FloatField(label="纬度", required=False)

    def __init__(self, *args: Any, scope_q: Any, units: Any, volunteers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, queryset in (("area", areas_in(scope_q)), ("unit", units), ("volunteer", volunteers)):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = queryset


class ProposeForm(forms.Form):
    max_distance_km = forms.FloatField(label="最远距离(公里)", min_value=0.1, max_value=500, required=False)


class ProjectForm(forms.Form):
    progress = forms.IntegerField(label="进度(%)", min_value=0, max_value=100)
    note = forms.CharField(label="进展说明", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
