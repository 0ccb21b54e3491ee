"""Create the default duty-list category tree (市容环境, 设施管理, 街面秩序, 社区事务, 公共安全); idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from grassroots.audit.services import Actor
from grassroots.cases.services import categories_seed


class Command(BaseCommand):
    help = "Create the default duty-list categories that are missing (by code)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = categories_seed(actor=Actor(id=None, label="command:seed_categories"))
        self.stdout.write(f"{created} categories created")
