"""Create the default list of skills (法律, 医疗, 养老照护, 维修, …); safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from grassroots.volunteers.services import skill_seed


class Command(BaseCommand):
    help = "创建默认技能类别（已有的不变）。"

    def handle(self, *args: Any, **options: Any) -> None:
        created = skill_seed()
        self.stdout.write(f"新建技能类别 {created} 个。")
