"""The pure estates rules, with hand-computed numbers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from grassroots.estates import rules
from grassroots.estates.rules import Listing


def test_quarters() -> None:
    assert rules.quarter_of(date(2026, 6, 1)) == (2026, 2)
    assert rules.quarter_bounds(2026, 1) == (date(2026, 1, 1), date(2026, 3, 31))
    assert rules.quarter_bounds(2025, 4) == (date(2025, 10, 1), date(2025, 12, 31))
    assert rules.previous_quarter(2026, 1) == (2025, 4)
    assert rules.previous_quarter(2026, 3) == (2026, 2)


def test_percent_rounds_halves_up() -> None:
    assert rules.percent(2, 3) == Decimal("66.7")
    assert rules.percent(1, 8) == Decimal("12.5")
    assert rules.percent(1, 16) == Decimal("6.3")  # 6.25 → 6.3
    assert rules.percent(0, 0) is None


def test_score_is_the_weighted_mean() -> None:
    assert rules.score(Decimal("95.0"), Decimal("100.0")) == Decimal("97.5")
    assert rules.score(Decimal("92.0"), Decimal("87.5")) == Decimal("89.8")  # 89.75 → 89.8
    assert rules.score(None, Decimal("80")) is None
    assert rules.score(Decimal("80"), None) is None


def test_classify_top_three_above_the_bar_red_low_black() -> None:
    placed = rules.classify(
        {
            "a": Decimal("97.5"),
            "b": Decimal("96.5"),
            "c": Decimal("95.5"),
            "d": Decimal("92.0"),  # 4th: not red although ≥ 90
            "e": Decimal("70.0"),  # ≤ 70: black
            "f": Decimal("70.1"),
            "g": None,
        }
    )
    assert {k: p.listing for k, p in placed.items()} == {
        "a": Listing.RED,
        "b": Listing.RED,
        "c": Listing.RED,
        "d": Listing.NONE,
        "e": Listing.BLACK,
        "f": Listing.NONE,
        "g": Listing.UNRATED,
    }
    assert [placed[k].rank for k in "abcdef"] == [1, 2, 3, 4, 6, 5]


def test_ties_share_a_rank_and_the_bar_still_applies() -> None:
    placed = rules.classify({"a": Decimal("91"), "b": Decimal("91"), "c": Decimal("91"), "d": Decimal("91")})
    assert all(p.rank == 1 and p.listing == Listing.RED for p in placed.values())
    placed = rules.classify({"a": Decimal("89.9")})
    assert placed["a"].listing == Listing.NONE


def test_removal_needs_two_black_quarters() -> None:
    assert rules.removal_due(Listing.BLACK, Listing.BLACK)
    assert not rules.removal_due(Listing.BLACK, Listing.UNRATED)
    assert not rules.removal_due(Listing.NONE, Listing.BLACK)


def test_change_reported_within_thirty_days_before() -> None:
    start = date(2026, 3, 1)
    assert rules.change_reported(start, [date(2026, 1, 30)])  # 30 days before
    assert rules.change_reported(start, [start])
    assert not rules.change_reported(start, [date(2026, 1, 29)])  # 31 days before
    assert not rules.change_reported(start, [date(2026, 3, 2)])  # after
    assert not rules.change_reported(start, [])


def test_dormitory_problems_above_three_thousand() -> None:
    assert rules.dormitory_problems(3000, False, False) == []
    assert rules.dormitory_problems(3001, False, False) == ["管理人员未配齐", "未成立联合管委会"]
    assert rules.dormitory_problems(3001, True, False) == ["未成立联合管委会"]
    assert rules.dormitory_problems(5000, True, True) == []


def test_revenue_uses_draw_on_earlier_reports_up_to_their_amount() -> None:
    reports = [(date(2026, 3, 1), Decimal("50000")), (date(2026, 5, 1), Decimal("8000"))]
    uses = [
        (date(2026, 3, 10), Decimal("30000")),  # report 0 → 20000 left
        (date(2026, 2, 20), Decimal("1000")),  # before every report: not covered
        (date(2026, 4, 1), Decimal("30000")),  # more than report 0 has left, report 1 not yet made
        (date(2026, 5, 2), Decimal("8000")),  # the earliest report with enough left: report 0 → 12000 left
        (date(2026, 5, 3), Decimal("20000")),  # neither 12000 nor 8000 is enough: not covered
        (date(2026, 5, 4), Decimal("8000.01")),  # too much for report 1, fits report 0 → 3999.99 left
        (date(2026, 5, 5), Decimal("8000")),  # report 1 exactly
        (date(2026, 5, 6), Decimal("4000")),  # nothing left anywhere
    ]
    assert rules.revenue_uses_covered(reports, uses) == [0, None, None, 0, None, 0, 1, None]


def test_a_report_older_than_the_window_covers_nothing() -> None:
    day = date(2026, 1, 1)
    reports = [(day, Decimal("100"))]
    edge = day + timedelta(days=rules.REVENUE_WINDOW_DAYS)
    assert rules.revenue_uses_covered(reports, [(edge, Decimal("100"))]) == [0]
    assert rules.revenue_uses_covered(reports, [(edge + timedelta(days=1), Decimal("100"))]) == [None]
    assert rules.revenue_uses_covered(reports, [(day, Decimal("100"))]) == [0]  # reported the same day
