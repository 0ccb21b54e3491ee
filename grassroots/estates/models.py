"""Estates (物业与业委会): owners' committees of compounds and their members.

Property companies, surveys and the red/black list will join this app later (issue 6).
Every row carries ``path``, the path of the compound's community, so a user's ``Scope``
filters it with one prefix. No logic in ``save()``: services write, with their audit entries.
"""

from __future__ import annotations

from django.db import models

from grassroots.places.models import Compound, ScopedQuerySet
from grassroots.registry.models import Person


class OwnersCommittee(models.Model):
    """One term (届) of a compound's owners' committee (业主委员会); at most one active per compound."""

    compound = models.ForeignKey(
        Compound, on_delete=models.PROTECT, related_name="owners_committees", verbose_name="小区"
    )
    name = models.CharField("名称", max_length=100)
    term_start = models.DateField("任期起")
    term_end = models.DateField("任期止")
    filed_on = models.DateField("备案日期", null=True, blank=True)
    path = models.CharField(max_length=255, db_index=True)  # the compound's community path
    is_active = models.BooleanField("有效", default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "name", "id"]
        verbose_name = "业主委员会"
        verbose_name_plural = "业主委员会"
        constraints = [
            models.UniqueConstraint(
                fields=["compound"], condition=models.Q(is_active=True), name="estates_one_active_committee"
            ),
            models.CheckConstraint(
                condition=models.Q(term_end__gt=models.F("term_start")), name="estates_committee_term_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CommitteePost(models.TextChoices):
    DIRECTOR = "director", "主任"
    DEPUTY = "deputy", "副主任"
    MEMBER = "member", "委员"


class OwnersCommitteeMember(models.Model):
    """A person's seat on a committee from ``since`` to ``until`` (the last day served; open while null)."""

    committee = models.ForeignKey(OwnersCommittee, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="owners_committee_seats", verbose_name="人员"
    )
    post = models.CharField("职务", max_length=16, choices=CommitteePost.choices, default=CommitteePost.MEMBER)
    since = models.DateField("任职起")
    until = models.DateField("任职止", null=True, blank=True)
    path = models.CharField(max_length=255, db_index=True)  # the committee's path

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["committee_id", "post", "since", "id"]
        verbose_name = "业委会委员"
        verbose_name_plural = "业委会委员"
        constraints = [
            # A person sits once on a committee at a time (closed periods are checked by the services).
            models.UniqueConstraint(
                fields=["committee", "person"],
                condition=models.Q(until__isnull=True),
                name="estates_member_once_open",
            ),
            models.CheckConstraint(
                condition=models.Q(until__isnull=True) | models.Q(until__gte=models.F("since")),
                name="estates_member_period_order",
            ),
        ]
        indexes = [models.Index(fields=["committee", "until"], name="estates_member_current")]

    def __str__(self) -> str:
        return f"{self.committee} {self.get_post_display()} {self.person.name}"
