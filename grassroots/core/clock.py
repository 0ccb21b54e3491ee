"""One place to read the time, so tests can pass their own ``now``."""

from datetime import date, datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()


def today() -> date:
    """Today's date where the platform runs (Asia/Shanghai), not in UTC: 07:00 in Kunshan is still yesterday in UTC."""
    return timezone.localdate(now())
