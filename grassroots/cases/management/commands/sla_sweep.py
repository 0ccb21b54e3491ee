"""``manage.py sla_sweep``: reminders, overdue marks and escalation, once. Run it from cron every minute."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from grassroots.cases import services


class Command(BaseCommand):
    help = "案件时限巡检（一轮）：到期提醒、超期标记与升级。 One SLA sweep over open cases."

    def handle(self, *args: Any, **options: Any) -> None:
        report = services.sla_sweep()
        self.stdout.write(f"reminded {report.reminded}, overdue {report.overdue}")
