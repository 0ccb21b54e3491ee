"""Forms of the estates pages; choices are limited to the user's scope."""

from __future__ import annotations

from typing import Any

from django import forms

from grassroots.core.scope import Scope
from grassroots.estates.models import CommitteePost, OwnersCommittee, OwnersCommitteeMember
from grassroots.places.models import Compound

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
