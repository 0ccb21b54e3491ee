"""The estates rules as plain Python (no Django): quarters, the red/black list, the other checks.

Every threshold is a module constant so the pages can show the rule they apply.

红黑榜 (per area, per quarter). A company is rated from the compounds it serves on the
quarter's last day:
- fee collection rate = households paid / households billed, summed over those compounds;
- satisfaction = survey answers scoring ``SATISFIED_MIN`` or more / all answers, over those compounds;
- score = ``FEE_WEIGHT`` × fee rate + ``SATISFACTION_WEIGHT`` × satisfaction (0–100, one decimal,
  halves rounded up). A company lacking either figure is not rated.
Red: among the ``RED_TOP`` highest scores (ties share a rank) and score ≥ ``RED_MIN_SCORE``.
Black: score ≤ ``BLACK_MAX_SCORE``. Black in a quarter and in the quarter before: flagged for
removal (清退).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

FEE_WEIGHT = Decimal("0.5")
SATISFACTION_WEIGHT = Decimal("0.5")
SATISFIED_MIN = 4  # an answer of 4 (满意) or 5 (非常满意) on the 1–5 scale
RED_TOP = 3
RED_MIN_SCORE = Decimal("90")
BLACK_MAX_SCORE = Decimal("70")
# 事前报告: a change of property company needs a report to the community at most this many days before.
REPORT_WINDOW_DAYS = 30
# 使用公共收益: a use is covered by a report of common revenue made on or before the day of use, at most this
# many days before, whose amount not yet taken by earlier uses is at least the use's amount.
REVENUE_WINDOW_DAYS = 180
# 集宿区: above this many workers a zone needs full management staff and a joint committee.
DORMITORY_WORKERS_LIMIT = 3000
# 红色业委会: at least this many current cross appointments, and party members more than half.
CROSS_APPOINTMENTS_MIN = 1

ONE_DECIMAL = Decimal("0.1")


class Listing(StrEnum):
    RED = "red"
    BLACK = "black"
    NONE = "none"  # rated, on neither list
    UNRATED = "unrated"  # a figure is missing

    @property
    def label(self) -> str:
        return {"red": "红榜", "black": "黑榜", "none": "—", "unrated": "数据不全，未评"}[self.value]


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    first = date(year, 3 * quarter - 2, 1)
    nxt = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, nxt - timedelta(days=1)


def previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` in per cent of ``whole``, one decimal with halves up; None when ``whole`` is 0."""
    if whole <= 0:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def score(fee_rate: Decimal | None, satisfaction: Decimal | None) -> Decimal | None:
    if fee_rate is None or satisfaction is None:
        return None
    value = FEE_WEIGHT * fee_rate + SATISFACTION_WEIGHT * satisfaction
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Placed:
    listing: Listing
    rank: int | None  # 1 + the number of rated companies with a higher score


def classify(scores: Mapping[Hashable, Decimal | None]) -> dict[Hashable, Placed]:
    """Each key's listing for one quarter of one area."""
    rated = [s for s in scores.values() if s is not None]
    out: dict[Hashable, Placed] = {}
    for key, value in scores.items():
        if value is None:
            out[key] = Placed(Listing.UNRATED, None)
            continue
        rank = 1 + sum(1 for other in rated if other > value)
        if rank <= RED_TOP and value >= RED_MIN_SCORE:
            listing = Listing.RED
        elif value <= BLACK_MAX_SCORE:
            listing = Listing.BLACK
        else:
            listing = Listing.NONE
        out[key] = Placed(listing, rank)
    return out


def removal_due(this_quarter: Listing, previous: Listing) -> bool:
    """Black-listed two quarters in a row."""
    return this_quarter == Listing.BLACK and previous == Listing.BLACK


def change_reported(start: date, report_days: list[date]) -> bool:
    """A change starting on ``start`` was reported on a day within the window before it (or on it)."""
    earliest = start - timedelta(days=REPORT_WINDOW_DAYS)
    return any(earliest <= d <= start for d in report_days)


def dormitory_problems(workers: int, staff_full: bool, has_joint_committee: bool) -> list[str]:
    if workers <= DORMITORY_WORKERS_LIMIT:
        return []
    problems = []
    if not staff_full:
        problems.append("管理人员未配齐")
    if not has_joint_committee:
        problems.append("未成立联合管委会")
    return problems


def revenue_uses_covered(reports: list[tuple[date, Decimal]], uses: list[tuple[date, Decimal]]) -> list[int | None]:
    """For each use (day, amount), the index of the report (day, amount) that covers it, or None.

    Uses are taken in date order and each draws on the earliest report in its window that still has
    enough left, so one report cannot cover more than its amount and a use before its report is never
    covered. The answer is in the order of ``uses``.
    """
    left = [amount for _, amount in reports]
    covered: list[int | None] = [None] * len(uses)
    for i in sorted(range(len(uses)), key=lambda k: uses[k][0]):
        used_on, amount = uses[i]
        earliest = used_on - timedelta(days=REVENUE_WINDOW_DAYS)
        fits = [j for j, (day, _) in enumerate(reports) if earliest <= day <= used_on and left[j] >= amount]
        if fits:
            j = min(fits, key=lambda k: (reports[k][0], k))
            left[j] -= amount
            covered[i] = j
    return covered
