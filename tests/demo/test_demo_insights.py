"""Demo insights: recurring cases and ratings once, and everything insights keeps goes with the city."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from grassroots.accounts.models import User
from grassroots.cases.models import Case, Channel
from grassroots.insights import models as insights
from grassroots.insights.selectors import hotspots as hotspot_reads
from grassroots.insights.services import hotspots as hotspot_writes
from grassroots.insights.services.rollups import rollups_refresh
from tests.demo.test_demo_city import demo_city

pytestmark = pytest.mark.django_db


def _insights() -> str:
    out = io.StringIO()
    call_command("demo_insights", stdout=out)
    return out.getvalue()


def test_demo_insights_run_once_and_go_with_the_city() -> None:
    demo_city(2000)
    for command in ("demo_accounts", "seed_categories"):
        call_command(command, stdout=io.StringIO())
    call_command("demo_cases", count=60, seed=3, stdout=io.StringIO())
    first = _insights()
    assert "recurring cases 0" not in first and insights.AssessmentRating.objects.exists()
    assert "recurring cases 0" in _insights()  # a second run plants nothing more
    worker = User.objects.get(username="demo_community_worker")
    found = hotspot_reads.hotspot_list(user=worker, now=timezone.now())
    assert found, "the planted recurring cases show as hotspots"
    hotspot_writes.hotspot_convert(actor=worker, token=found[0].token)
    assert Case.objects.filter(channel=Channel.PROACTIVE).count() == 1
    rollups_refresh(full=True)
    call_command("plan_grids", str(worker.area_id), "--save", stdout=io.StringIO())
    assert insights.PlanProposal.objects.exists()
    assert insights.CaseRollup.objects.exists() and insights.CaseResponse.objects.exists()
    demo_city(2000, 2, replace=True)
    for model in (
        insights.AssessmentRating,
        insights.HotspotDecision,
        insights.PlanProposal,
        insights.CaseResponse,
        insights.CaseRollup,
        insights.CategoryRollup,
        insights.RegistryRollup,
    ):
        assert not model.objects.exists(), model.__name__
    assert not Case.objects.exists()
