"""``manage.py demo_insights``: recurring cases that show as hotspots (未诉先办), and communities' ratings.

Plants, through the cases services with an injected clock, the same problem reported again and again
at a few buildings of the demo community and one category rising in the last weeks; then the demo
community worker rates every department and partner unit for the last three months. Idempotent.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from grassroots.accounts.models import Role, User
from grassroots.cases import services as cases
from grassroots.cases.models import Case, Category, Channel
from grassroots.cases.workflow import TZ
from grassroots.core.scope import Scope
from grassroots.insights.selectors import assessment as assessment_selectors
from grassroots.insights.services import assessment as assessment_services
from grassroots.places.models import Building

MARK = "（反复反映）"


class Command(BaseCommand):
    help = "为演示社区生成反复发生的案件（热点）和近三个月的社区评分（可重复运行，不会重复生成）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        rng = random.Random(options["seed"])
        users = {u.role: u for u in User.objects.filter(username__startswith="demo_", is_active=True)}
        if Role.RESIDENT not in users or Role.COMMUNITY_WORKER not in users:
            raise CommandError("demo accounts are missing: run manage.py demo_accounts first", returncode=2)
        resident, worker = users[Role.RESIDENT], users[Role.COMMUNITY_WORKER]
        community = worker.area
        assert community is not None
        now = datetime.now(TZ)
        planted = 0
        if not Case.objects.filter(path__startswith=community.path + ".", description__endswith=MARK).exists():
            planted = self._plant(rng, resident, community.path, now)
        rated = self._rate(rng, worker, community, now)
        self.stdout.write(f"recurring cases {planted}, ratings {rated}")

    def _plant(self, rng: random.Random, resident: User, path: str, now: datetime) -> int:
        buildings = list(Building.objects.filter(path__startswith=path + ".").order_by("id"))
        categories = list(Category.objects.filter(parent__isnull=False, is_active=True).order_by("code"))
        if len(buildings) < 4 or len(categories) < 4:
            raise CommandError("the demo community needs buildings and categories: run demo_city and demo_cases first")
        made = 0
        with transaction.atomic():
            # The same problem at the same building, four times in two months.
            for building, category in zip(rng.sample(buildings, 3), rng.sample(categories, 3), strict=True):
                for _ in range(4):
                    made += self._submit(resident, category, building, now - timedelta(days=rng.uniform(1, 60)))
            # One category rising: ten cases in the last three weeks across the community.
            rising = categories[-1]
            for _ in range(10):
                made += self._submit(
                    resident, rising, rng.choice(buildings), now - timedelta(days=rng.uniform(0.5, 21))
                )
        return made

    def _submit(self, resident: User, category: Category, building: Building, at: datetime) -> int:
        cases.case_submit(
            actor=resident,
            scope=Scope.everything(),
            channel=Channel.RESIDENT_H5,
            category=category,
            description=f"{category.name}问题又出现了{MARK}",
            building=building,
            now=at,
        )
        return 1

    def _rate(self, rng: random.Random, worker: User, community: Any, now: datetime) -> int:
        made = 0
        month = now.date().replace(day=1)
        for _ in range(3):
            month = (month - timedelta(days=1)).replace(day=1)
            for target in assessment_selectors.rating_targets(community=community, month=month):
                if target.score is not None:
                    continue
                assessment_services.rating_save(
                    actor=worker,
                    community=community,
                    month=month,
                    target_kind=target.kind,
                    target_id=target.key,
                    score=rng.randint(62, 98),
                    comment=rng.choice(["", "响应及时", "还需加强沟通", "配合社区工作积极"]),
                )
                made += 1
        return made
