"""The place tree: 市 → 区 → 街道 → 社区 → 网格, and compounds, buildings, entrances, dwellings.

Every row carries ``path``, the materialised path of the area it belongs to, so a
scope check is one indexed prefix filter.
"""

from __future__ import annotations

from django.db import models

from grassroots.core.scope import Scope


class AreaLevel(models.TextChoices):
    CITY = "city", "市"
    DISTRICT = "district", "区(县)"
    SUBDISTRICT = "subdistrict", "街道(镇)"
    COMMUNITY = "community", "社区(村)"
    GRID = "grid", "网格"


# The level a child of each level must have (grids may also hold micro-grids).
CHILD_LEVEL = {
    AreaLevel.CITY: AreaLevel.DISTRICT,
    AreaLevel.DISTRICT: AreaLevel.SUBDISTRICT,
    AreaLevel.SUBDISTRICT: AreaLevel.COMMUNITY,
    AreaLevel.COMMUNITY: AreaLevel.GRID,
    AreaLevel.GRID: AreaLevel.GRID,
}


class GridKind(models.TextChoices):
    COMPREHENSIVE = "comprehensive", "综合网格"
    DEDICATED = "dedicated", "专属网格"
    MICRO = "micro", "精微网格"


class AreaMode(models.TextChoices):
    NORMAL = "normal", "平时"
    EMERGENCY = "emergency", "战时(应急)"
    DRILL = "drill", "演练"


class ScopedQuerySet(models.QuerySet):
    def in_scope(self, scope: Scope) -> ScopedQuerySet:
        return self.filter(scope.path_q("path"))


class AreaQuerySet(ScopedQuerySet):
    def active(self) -> AreaQuerySet:
        """Areas still in use: a retired area keeps its row (cases, rollups and audit point at it)
        but leaves trees, pickers, maps, the locator and the counts."""
        return self.filter(retired_at__isnull=True)

    def grids(self) -> AreaQuerySet:
        """The live grids (micro-grids included); retired ones are only reached by id or path."""
        return self.active().filter(level=AreaLevel.GRID)

    def of_level(self, level: str) -> AreaQuerySet:
        return self.filter(level=level)


class Area(models.Model):
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    level = models.CharField("层级", max_length=16, choices=AreaLevel.choices)
    grid_kind = models.CharField("网格类型", max_length=16, choices=GridKind.choices, blank=True)
    code = models.CharField("编码", max_length=32)
    name = models.CharField("名称", max_length=100)
    path = models.CharField(max_length=255, unique=True)
    depth = models.PositiveSmallIntegerField()
    is_rural = models.BooleanField("村(农村社区)", default=False)
    mode = models.CharField("运行模式", max_length=16, choices=AreaMode.choices, default=AreaMode.NORMAL)
    geometry = models.JSONField("边界(GeoJSON)", null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    retired_at = models.DateTimeField("撤销时间", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AreaQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = "区域"
        verbose_name_plural = "区域"
        constraints = [
            models.UniqueConstraint(fields=["parent", "code"], name="area_code_unique_in_parent"),
            models.CheckConstraint(
                condition=(models.Q(level="grid") & ~models.Q(grid_kind=""))
                | (~models.Q(level="grid") & models.Q(grid_kind="")),
                name="area_grid_kind_only_on_grids",
            ),
        ]
        indexes = [
            models.Index(fields=["level", "path"]),
            models.Index(fields=["path"], name="area_path_prefix", opclasses=["varchar_pattern_ops"]),
            # Only a handful of areas are ever retired: the live ones are what every list reads.
            models.Index(
                fields=["level", "path"], condition=models.Q(retired_at__isnull=True), name="area_live_level_path"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    @property
    def display_name(self) -> str:
        """The name as history shows it: a retired grid says so."""
        return f"{self.name}（已撤销）" if self.retired_at is not None else self.name

    @property
    def kind_label(self) -> str:
        if self.level == AreaLevel.GRID:
            return GridKind(self.grid_kind).label
        if self.level == AreaLevel.COMMUNITY and self.is_rural:
            return "村"
        return AreaLevel(self.level).label

    def ancestor_paths(self) -> list[str]:
        parts = self.path.split(".")
        return [".".join(parts[:i]) for i in range(1, len(parts))]


class CompoundKind(models.TextChoices):
    COMMODITY = "commodity", "商品房小区"
    OLD = "old", "老旧小区"
    RESETTLEMENT = "resettlement", "安置小区"
    SCATTERED = "scattered", "散居楼院"
    DORMITORY = "dormitory", "集宿区"


class Compound(models.Model):
    community = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="compounds")
    path = models.CharField(max_length=255, db_index=True)  # the community's path
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=16, choices=CompoundKind.choices, default=CompoundKind.COMMODITY)
    built_year = models.PositiveSmallIntegerField("建成年份", null=True, blank=True)
    geometry = models.JSONField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "name"]
        verbose_name = "小区"
        verbose_name_plural = "小区"

    def __str__(self) -> str:
        return self.name


class Typology(models.TextChoices):
    HIGH_RISE = "high_rise", "高层"
    MID_HIGH = "mid_high", "小高层"
    MULTI_STOREY = "multi_storey", "多层"
    LOW = "low", "低层/平房"
    NON_RESIDENTIAL = "non_residential", "非住宅"


class Building(models.Model):
    grid = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="buildings")
    compound = models.ForeignKey(Compound, null=True, blank=True, on_delete=models.PROTECT, related_name="buildings")
    path = models.CharField(max_length=255, db_index=True)  # the grid's path
    name = models.CharField("楼栋", max_length=60)
    address = models.CharField("地址", max_length=200, blank=True)
    typology = models.CharField("类型", max_length=16, choices=Typology.choices)
    floors = models.PositiveSmallIntegerField("层数")
    households = models.PositiveIntegerField("户数", default=0)
    geometry = models.JSONField("轮廓(GeoJSON)", null=True, blank=True)
    lon = models.FloatField()
    lat = models.FloatField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "id"]
        verbose_name = "楼栋"
        verbose_name_plural = "楼栋"

    def __str__(self) -> str:
        return f"{self.compound.name if self.compound_id and self.compound else ''}{self.name}"


class Entrance(models.Model):
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="entrances")
    path = models.CharField(max_length=255, db_index=True)
    number = models.PositiveSmallIntegerField("单元号")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["building_id", "number"]
        verbose_name = "单元"
        verbose_name_plural = "单元"
        constraints = [models.UniqueConstraint(fields=["building", "number"], name="entrance_number_unique")]

    def __str__(self) -> str:
        return f"{self.number}单元"


class Dwelling(models.Model):
    entrance = models.ForeignKey(Entrance, on_delete=models.CASCADE, related_name="dwellings")
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="dwellings")
    path = models.CharField(max_length=255, db_index=True)
    floor = models.SmallIntegerField("楼层")
    room = models.CharField("室号", max_length=16)
    area_m2 = models.DecimalField("面积(㎡)", max_digits=7, decimal_places=2, null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["entrance_id", "floor", "room"]
        verbose_name = "房屋"
        verbose_name_plural = "房屋"
        constraints = [models.UniqueConstraint(fields=["entrance", "room"], name="dwelling_room_unique")]

    def __str__(self) -> str:
        return f"{self.room}室"
