"""Text clean-up and the duty-list keywords of the keyword fallback."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_LATIN = re.compile(r"[a-z]+")

# The words a duty list (事项清单) names for each seeded category, beside the category's own name:
# what an administrator writes once, not what residents say. Categories created later have only
# their name (and their parent's), which is exactly the weakness the learned model removes.
SEEDED_KEYWORDS: dict[str, tuple[str, ...]] = {
    "environment.exposed_garbage": ("垃圾", "垃圾桶", "清运"),
    "environment.piled_materials": ("堆物", "堆放", "杂物"),
    "environment.illegal_posting": ("小广告", "张贴", "涂写"),
    "facilities.streetlight_out": ("路灯", "照明"),
    "facilities.manhole_cover_missing": ("井盖",),
    "facilities.road_damage": ("路面", "坑洼", "破损"),
    "street_order.street_vending": ("摊贩", "占道", "摆摊"),
    "street_order.illegal_parking": ("停车", "违停"),
    "community.neighbour_dispute": ("纠纷", "邻居", "矛盾"),
    "community.property_service": ("物业",),
    "community.noise": ("噪音", "扰民"),
    "safety.fire_lane_blocked": ("消防通道", "消防"),
    "safety.ebike_indoor_charging": ("电动车", "充电", "飞线"),
}


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC), lower case, numbers to one ``0``, runs of space to one."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _DIGITS.sub("0", text)
    return _SPACE.sub(" ", text).strip()


def default_keywords(code: str, names: Iterable[str]) -> list[str]:
    """A category's keywords: its seeded synonyms, its names (own, parent) and their two-character pieces."""
    words: list[str] = list(SEEDED_KEYWORDS.get(code, ()))
    for name in names:
        name = normalise(name)
        if not name:
            continue
        words.append(name)
        words.extend(name[i : i + 2] for i in range(len(name) - 1) if len(name) > 2)
    seen: set[str] = set()
    return [w for w in words if w and not (w in seen or seen.add(w))]  # type: ignore[func-returns-value]
