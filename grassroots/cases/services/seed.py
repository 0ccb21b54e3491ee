"""A sensible default category tree for a new street office; seeding twice adds nothing."""

from __future__ import annotations

from django.db import transaction

from grassroots.audit.services import Actor
from grassroots.cases.models import Category, CategoryKind
from grassroots.cases.services.duty import category_create

K = CategoryKind
# (code, name, kind, default whistle kind, children [(code, name, whistle kind or "" for the parent's)])
DEFAULT_TREE: list[tuple[str, str, str, str, list[tuple[str, str, str]]]] = [
    (
        "environment",
        "市容环境",
        K.EVENT,
        "routine",
        [
            ("environment.exposed_garbage", "暴露垃圾", ""),
            ("environment.piled_materials", "乱堆物料", ""),
            ("environment.illegal_posting", "违章张贴", ""),
        ],
    ),
    (
        "facilities",
        "设施管理",
        K.COMPONENT,
        "routine",
        [
            ("facilities.streetlight_out", "路灯不亮", ""),
            ("facilities.manhole_cover_missing", "井盖缺失", "key"),  # an open shaft hurts someone tonight
            ("facilities.road_damage", "道路破损", ""),
        ],
    ),
    (
        "street_order",
        "街面秩序",
        K.EVENT,
        "routine",
        [
            ("street_order.street_vending", "占道经营", ""),
            ("street_order.illegal_parking", "乱停车", ""),
        ],
    ),
    (
        "community",
        "社区事务",
        K.COMMUNITY,
        "routine",
        [
            ("community.neighbour_dispute", "邻里纠纷", "coordination"),
            ("community.property_service", "物业服务", "coordination"),
            ("community.noise", "噪音扰民", ""),
        ],
    ),
    (
        "safety",
        "公共安全",
        K.EVENT,
        "key",
        [
            ("safety.fire_lane_blocked", "消防通道堵塞", ""),
            ("safety.ebike_indoor_charging", "电动车楼道充电", ""),
        ],
    ),
]


@transaction.atomic
def categories_seed(*, actor: Actor) -> int:
    """Create the default categories that are missing (by code); answers how many were created."""
    created = 0
    for sort, (code, name, kind, whistle, children) in enumerate(DEFAULT_TREE, start=1):
        parent = Category.objects.filter(code=code).first()
        if parent is None:
            parent = category_create(
                actor=actor, code=code, name=name, kind=kind, default_whistle_kind=whistle, sort=sort * 10
            )
            created += 1
        for child_sort, (child_code, child_name, child_whistle) in enumerate(children, start=1):
            if Category.objects.filter(code=child_code).exists():
                continue
            category_create(
                actor=actor,
                code=child_code,
                name=child_name,
                kind=kind,
                parent=parent,
                default_whistle_kind=child_whistle or whistle,
                sort=child_sort * 10,
            )
            created += 1
    return created
