"""``manage.py demo_city --households N --seed S [--replace]``: build the synthetic city."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError

from grassroots.demo.cleanup import delete_demo_city
from grassroots.demo.generator import CITY_CODE, CityGenerator, make_plan
from grassroots.demo.layout import PlanError
from grassroots.places.models import Area

MIN_HOUSEHOLDS, MAX_HOUSEHOLDS = 2_000, 2_000_000
DEFAULT_HOUSEHOLDS, DEFAULT_SEED = 20_000, 2026


def _integer(value: Any, label: str) -> int:
    if isinstance(value, bool):
        raise CommandError(f"{label}必须是整数，收到“{value}”。", returncode=2)
    if isinstance(value, int):
        return value
    text = str(value).strip().replace("_", "")
    if not (text.isdigit() or (text.startswith("-") and text[1:].isdigit())):
        raise CommandError(f"{label}必须是整数，收到“{value}”。", returncode=2)
    return int(text)


class Command(BaseCommand):
    help = "生成演示城市（苏州市昆山市）：区域树、小区楼栋、住户与人口、部门、社区工作者和网格四员。"

    def add_arguments(self, parser: CommandParser) -> None:
        # Parsed as text and checked here, so bad input gets exit code 2 and a Chinese message.
        parser.add_argument("--households", default=DEFAULT_HOUSEHOLDS, help="户数，2000 至 2000000（默认 20000）")
        parser.add_argument("--seed", default=DEFAULT_SEED, help="随机种子，非负整数；同一种子生成同样的城市")
        parser.add_argument("--replace", action="store_true", help="先删除已有的演示城市再生成")

    def handle(self, *args: Any, **options: Any) -> None:
        households = _integer(options["households"], "户数(--households)")
        seed = _integer(options["seed"], "随机种子(--seed)")
        if not MIN_HOUSEHOLDS <= households <= MAX_HOUSEHOLDS:
            raise CommandError(
                f"户数(--households)应在 {MIN_HOUSEHOLDS} 至 {MAX_HOUSEHOLDS} 之间，收到 {households}。", returncode=2
            )
        if seed < 0:
            raise CommandError(f"随机种子(--seed)不能为负数，收到 {seed}。", returncode=2)
        try:
            make_plan(households, seed)
        except PlanError:
            raise CommandError(
                f"{households} 户无法划分为每个 2000–3000 户的社区（3001–3999 户无解），请换一个户数。", returncode=2
            ) from None
        if Area.objects.exists():
            if not options["replace"]:
                raise CommandError("数据库中已有区域数据。如需删除原演示城市并重新生成，请加 --replace。", returncode=2)
            roots = list(Area.objects.filter(parent__isnull=True).values_list("path", flat=True))
            others = [p for p in roots if p != CITY_CODE]
            if others:
                raise CommandError(
                    f"数据库中有演示城市以外的区域（{', '.join(others)}），--replace 只会删除演示城市，已停止。",
                    returncode=2,
                )
            started = time.monotonic()
            try:
                deleted = delete_demo_city(CITY_CODE)
            except (ProtectedError, RestrictedError, IntegrityError) as exc:
                raise CommandError(f"无法删除原演示城市：仍有其他数据引用它（{exc}）。", returncode=2) from None
            summary = ", ".join(f"{k} {v:,}" for k, v in deleted.items())
            self.stdout.write(f"Deleted the previous demo city in {time.monotonic() - started:.1f} s: {summary}")
        self.stdout.write(f"Generating the demo city: {households:,} households, seed {seed}")
        started = time.monotonic()
        counts = CityGenerator(households=households, seed=seed, log=self.stdout.write).run()
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {seconds:.1f} s: {counts.areas:,} areas, {counts.buildings:,} buildings, "
                f"{counts.households:,} households, {counts.persons:,} persons, {counts.users:,} workers, "
                f"{counts.rows:,} rows ({counts.rows / max(seconds, 1e-9):,.0f} rows/s)"
            )
        )
