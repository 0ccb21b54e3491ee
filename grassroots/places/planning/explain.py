"""Why no plan exists: reasons in Chinese (for the UI) and English (for logs).

Every reason names the place and the numbers, so a planner can see what to change: move the
boundary of the parent, split a building by entrance, or widen the bounds."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reason:
    code: str  # parent_total | component_total | atom_over_ceiling | isolated | forced | stuck
    en: str
    zh: str
    parent: Hashable | None = None
    atoms: tuple[Hashable, ...] = field(default=(), compare=False)


class NoPlanError(Exception):
    """No plan meets the hard constraints. ``str(error)`` is English for logs, ``error.message``
    Chinese for users; ``error.reasons`` lists each reason."""

    def __init__(self, reasons: Sequence[Reason]):
        self.reasons = tuple(reasons)
        self.message = "；".join(r.zh for r in self.reasons)
        super().__init__("; ".join(r.en for r in self.reasons))


def unit_range(households: int, floor: int, ceiling: int) -> tuple[int, int]:
    """Fewest and most units a total can be cut into: ⌈H/ceiling⌉ … ⌊H/floor⌋ (empty if lo > hi)."""
    return max(1, math.ceil(households / ceiling)), households // floor


def _where(parent: Hashable | None, zh: bool) -> str:
    if parent is None:
        return "该区域" if zh else "the area"
    return f"「{parent}」" if zh else f"{parent!r}"


def total_reason(
    households: int,
    floor: int,
    ceiling: int,
    *,
    parent: Hashable | None = None,
    unit: tuple[str, str] = ("网格", "grid"),
    part: tuple[str, str] | None = None,
    atoms: tuple[Hashable, ...] = (),
) -> Reason | None:
    """The arithmetic reason, if any: no whole number of units of [floor, ceiling] adds up to H.

    ``part`` names a piece cut off from the rest (a disconnected part of the parent)."""
    lo, hi = unit_range(households, floor, ceiling)
    if lo <= hi:
        return None
    zh_unit, en_unit = unit
    code = "component_total" if part else "parent_total"
    where_zh = _where(parent, zh=True) + (f"中{part[0]}" if part else "")
    where_en = _where(parent, zh=False) + (f": {part[1]}" if part else "")
    if households < floor:
        en = (
            f"{where_en} has {households} households, fewer than the floor of {floor}: "
            f"it cannot form even one {en_unit}; merge it with a neighbouring area or lower the floor"
        )
        zh = f"{where_zh}共{households}户，少于下限{floor}户，连一个{zh_unit}都不够；请与相邻区域合并或调低下限"
        return Reason(code, en, zh, parent, atoms)
    k_over = lo - 1  # this many units would be too big on average
    over = (
        f"one {en_unit} would hold {households}"
        if k_over == 1
        else (f"{k_over} {en_unit}s would hold {households / k_over:.0f} on average")
    )
    en = (
        f"{where_en} has {households} households: {over}, above the ceiling of {ceiling}; "
        f"{lo} {en_unit}s would hold {households / lo:.0f} "
        f"on average, below the floor of {floor}. No split into {en_unit}s of {floor}-{ceiling} households "
        f"exists: move the boundary of the area or change the bounds"
    )
    zh = (
        f"{where_zh}共{households}户：划为{k_over}个{zh_unit}平均每个{households / k_over:.0f}户，超过上限{ceiling}户；"
        f"划为{lo}个{zh_unit}平均每个{households / lo:.0f}户，低于下限{floor}户。"
        f"无法划成每个{floor}–{ceiling}户的{zh_unit}：请调整区域边界或户数范围"
    )
    return Reason(code, en, zh, parent, atoms)


def atom_reason(
    atom: Hashable, households: int, ceiling: int, *, parent: Hashable | None = None, unit: tuple[str, str]
) -> Reason:
    en = (
        f"{atom!r} alone has {households} households, above the {unit[1]} ceiling of {ceiling}, "
        f"and cannot be split further: record its entrances (or dwellings) as separate atoms"
    )
    zh = f"「{atom}」单独就有{households}户，超过{unit[0]}上限{ceiling}户且无法再拆分：请按单元（或住户）登记后再划分"
    return Reason("atom_over_ceiling", en, zh, parent, (atom,))


def stuck_reason(
    groups: Sequence[tuple[Hashable, int]],
    households: int,
    floor: int,
    ceiling: int,
    *,
    parent: Hashable | None = None,
    unit: tuple[str, str],
) -> Reason:
    """The whole-compound (whole-building) pieces around a unit cannot be combined within bounds."""
    shown = ", ".join(f"{g} ({h})" for g, h in groups[:8]) + (" …" if len(groups) > 8 else "")
    shown_zh = "、".join(f"{g}（{h}户）" for g, h in groups[:8]) + ("等" if len(groups) > 8 else "")
    en = (
        f"in {_where(parent, zh=False)} the planner found no way to cut the neighbourhood of {households} households "
        f"made of whole compounds and buildings {shown} into connected {unit[1]}s of {floor}-{ceiling} households "
        f"without splitting a compound under the ceiling (a search, not a proof that none exists): allow one of "
        f"these compounds to be split, or adjust the bounds or the parent boundary"
    )
    zh = (
        f"{_where(parent, zh=True)}中由整小区/整楼组成的相邻片区（共{households}户）：{shown_zh}，"
        f"规划器未能在不拆分{ceiling}户以下小区的前提下，把它连片划成每个{floor}–{ceiling}户的{unit[0]}"
        f"（这是搜索结果，不等于一定无解）：请允许拆分其中某个小区，或调整户数范围、上级边界"
    )
    return Reason("stuck", en, zh, parent, tuple(g for g, _ in groups))


def isolated_reason(
    name: Hashable,
    households: int,
    neighbours: Sequence[tuple[Hashable, int]],
    floor: int,
    ceiling: int,
    *,
    parent: Hashable | None = None,
    unit: tuple[str, str],
) -> Reason:
    """A whole compound (or building) under the floor whose every neighbour would take it over the ceiling."""
    shown = ", ".join(f"{g} ({h})" for g, h in neighbours)
    shown_zh = "、".join(f"「{g}」（{h}户）" for g, h in neighbours)
    en = (
        f"{name!r} has {households} households, under the floor of {floor}, and may not be split; every "
        f"neighbour it could join ({shown}) would take the {unit[1]} over the ceiling of {ceiling}: allow "
        f"{name!r} or a neighbour to be split, or change the bounds"
    )
    zh = (
        f"「{name}」共{households}户，低于下限{floor}户且不能拆分；与任何相邻的{shown_zh}合并都会超过"
        f"上限{ceiling}户：请允许拆分该小区（或相邻小区），或调整户数范围"
    )
    return Reason("isolated", en, zh, parent, (name,))


def forced_reason(
    group: Sequence[tuple[Hashable, int]],
    households: int,
    neighbours: Sequence[tuple[Sequence[Hashable], int]],
    chain: Sequence[tuple[str, int, str, int]],
    floor: int,
    ceiling: int,
    *,
    splittable: Sequence[Hashable] = (),
    parent: Hashable | None = None,
    unit: tuple[str, str],
) -> Reason:
    """Whole compounds (buildings) under the floor that can only join neighbours already forced
    together: every step of ``chain`` (a node whose only neighbour within the ceiling is the other)
    is forced, so no plan exists. ``splittable``: the compounds among them, the group's own first
    (``Reason.atoms`` starts with them: what a user may allow to be split)."""
    names = list(dict.fromkeys([*splittable, *(g for g, _ in group), *(g for gs, _ in neighbours for g in gs)]))
    what = " + ".join(f"{g} ({h})" for g, h in group)
    what_zh = "+".join(f"「{g}」（{h}户）" for g, h in group)
    near = ", ".join(f"{' + '.join(map(str, gs))} ({h})" for gs, h in neighbours)
    near_zh = "、".join(f"{'+'.join(f'「{g}」' for g in gs)}（{h}户）" for gs, h in neighbours)
    steps = "; ".join(f"{a} ({ha}) can join no neighbour but {b} ({hb}) within the ceiling" for a, ha, b, hb in chain)
    steps_zh = "；".join(f"「{a}」（{ha}户）只能与「{b}」（{hb}户）合并而不超过上限" for a, ha, b, hb in chain)
    en = (
        f"{what}: {households} households, under the floor of {floor}, and may not be split; every neighbour "
        f"it could join ({near}) would take the {unit[1]} over the ceiling of {ceiling}"
        + (f" (neighbours joined because they have no other choice: {steps})" if steps else "")
        + (
            f": allow {names[0]!r} or a neighbour to be split, or change the bounds"
            if splittable
            else ": change the bounds"
        )
    )
    zh = (
        f"{what_zh}共{households}户，低于下限{floor}户且不能拆分；与任何相邻的{near_zh}合并都会超过上限{ceiling}户"
        + (f"（相邻的小区别无选择、必须合并：{steps_zh}）" if steps_zh else "")
        + (f"：请允许拆分「{names[0]}」（或相邻小区），或调整户数范围" if splittable else "：请调整户数范围")
    )
    return Reason("forced", en, zh, parent, tuple(names))
