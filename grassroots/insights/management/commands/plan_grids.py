"""``manage.py plan_grids AREA [--floor 300] [--ceiling 500] [--save]``: plan comprehensive grids.

AREA is the id or the code path of a community or subdistrict. Prints one line per proposed grid
(households, residents, compactness, compounds split, share of boundary on roads, households moved
against the current grids); ``--save`` stores the proposal for the planning page. Where no plan
exists the reason is printed in Chinese and logged in English, and the command exits with 2.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.audit.services import Actor
from grassroots.core.errors import DomainError
from grassroots.insights.selectors.planning import find_area, planning_input
from grassroots.insights.services.planning import PlanParams, compute, proposal_create
from grassroots.places.planning import GRID, NoPlanError

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "按网格规模标准（默认300-500户）为社区或街道规划综合网格。 Plan comprehensive grids for an area."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("area", help="area id or code path of a community or subdistrict")
        parser.add_argument("--floor", type=int, default=GRID.floor, help="fewest households per grid")
        parser.add_argument("--ceiling", type=int, default=GRID.ceiling, help="most households per grid")
        parser.add_argument("--save", action="store_true", help="store the proposal for the planning page")

    def handle(self, *args: Any, **options: Any) -> None:
        area = find_area(options["area"])
        if area is None:
            raise CommandError(f"未找到区域 {options['area']}（请给出区域编号或编码路径）。")
        floor, ceiling = options["floor"], options["ceiling"]
        actor = Actor(id=None, label="command:plan_grids")
        try:
            if options["save"]:
                proposal = proposal_create(actor=actor, area=area, floor=floor, ceiling=ceiling)
                result = proposal.result
            else:
                data = planning_input(area)
                if not data.buildings:
                    raise DomainError("该区域的综合网格中没有楼栋，无法规划。")
                result = compute(data, PlanParams(floor, ceiling))
        except NoPlanError as error:
            log.info("plan_grids %s: no plan", area.path)
            self.stderr.write(f"no plan for {area.path}: {error}")
            self.stdout.write(f"无法为「{area.name}」生成网格方案：{error.message}")
            sys.exit(2)
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"{area.name} ({area.path}): {result['buildings']} 栋, {result['households']} 户; "
            f"网格 {len(result['units'])} 个 (下界 {result['lower_bound']}), 户数范围 [{floor}, {ceiling}], "
            f"拆分小区 {result['compounds_split']} 个, 调整户数 {result['households_moved']}, {result['seconds']:.2f} s"
        )
        self.stdout.write("网格\t社区\t户数\t人口\t紧凑度\t拆分小区\t边界在道路\t调整户数\t原网格")
        for u in result["units"]:
            compactness = "—" if u["compactness"] is None else f"{u['compactness']:.3f}"
            self.stdout.write(
                f"{u['name']}\t{u['community_name']}\t{u['households']}\t{u['residents']}\t{compactness}\t"
                f"{u['compounds_split']}\t{u['boundary_on_roads'] * 100:.1f}%\t{u['households_moved']}\t"
                f"{'保留' if u['existing'] else '新建'}"
            )
        if options["save"]:
            self.stdout.write(f"已保存方案 #{proposal.pk}，请在网格规划页面审核后采纳。")
