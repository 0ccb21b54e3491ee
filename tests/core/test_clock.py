"""The clock's date is the platform's local date (Asia/Shanghai), not UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from unittest import mock

from grassroots.core import clock


def test_today_is_the_local_date_early_in_the_morning() -> None:
    seven_am_in_kunshan = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # 07:00 on 1 December in Asia/Shanghai
    with mock.patch.object(clock, "now", return_value=seven_am_in_kunshan):
        assert clock.today() == date(2026, 12, 1)
