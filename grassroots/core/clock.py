"""One place to read the time, so tests can pass their own ``now``."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
