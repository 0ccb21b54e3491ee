"""Request rate limits per client IP (or another key), counted in the default cache.

Limits are named (``report``, ``open311``, ``login``, ``sms_send``, ``propose``) and configured in
``settings.GRASSROOTS_RATE_LIMITS`` as ``"count/seconds"`` pairs, comma-separated, every pair
holding at once (``"10/60,60/3600"``: 10 a minute and 60 an hour); ``"off"`` disables one.
Windows are fixed (aligned on multiples of their length, in ``clock`` time), so a client may
squeeze up to twice a limit around a boundary; the refusal names the seconds until the
window that refused ends. Counters live in the default cache: the embedded per-process
memory cache is right for one web process; several processes must share one cache (Redis,
``GRASSROOTS_CACHE_URL``) or each counts on its own.

A cache that fails (Redis down) lets requests through with a warning in the log: a rate
limit is a brake on abuse, and must not take login down with it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from grassroots.core import clock
from grassroots.core.client_ip import client_ip

logger = logging.getLogger(__name__)

DEFAULT_LIMITS = {
    "report": "10/60,60/3600",  # resident reports (H5 and QR stickers), per IP
    "open311": "30/60",  # Open311 POSTs, per API key (per IP without one)
    "login": "20/60",  # password and SMS-code login POSTs, per IP
    "sms_send": "20/3600",  # SMS code requests, per IP (against spraying numbers)
    "propose": "5/60,30/3600",  # residents' topic proposals, per IP
}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rates(text: str) -> tuple[Rate, ...]:
    """``"10/60,60/3600"`` (or ``"10/m,60/h"``) → rates; ``""``/``"off"`` → none. Raises ValueError."""
    text = text.strip()
    if text.lower() in ("", "off", "none"):
        return ()
    rates = []
    for part in text.split(","):
        count, _, period = part.strip().partition("/")
        period = period.strip()
        seconds = _UNITS[period] if period in _UNITS else int(period)
        rate = Rate(int(count), seconds)
        if rate.count < 1 or rate.seconds < 1:
            raise ValueError(f"rate {part!r}: count and seconds must be positive")
        rates.append(rate)
    return tuple(rates)


def rates_for(name: str) -> tuple[Rate, ...]:
    configured = getattr(settings, "GRASSROOTS_RATE_LIMITS", {}) or {}
    return parse_rates(str(configured.get(name, DEFAULT_LIMITS.get(name, ""))))


def wait_text(seconds: int) -> str:
    """How long to wait, in words: 43 秒, 5 分钟, 3 小时 (rounded up)."""
    if seconds < 120:
        return f"{max(1, seconds)} 秒"
    if seconds < 2 * 3600:
        return f"{math.ceil(seconds / 60)} 分钟"
    return f"{math.ceil(seconds / 3600)} 小时"


@dataclass(frozen=True)
class Refusal:
    retry_after: int  # seconds until the refusing window ends

    @property
    def message(self) -> str:
        return f"操作过于频繁，请 {wait_text(self.retry_after)}后再试。"


def _count(key: str, timeout: int) -> int:
    # add() then incr() is atomic on Redis and on the memory cache: two racing first hits give 1 and 2.
    try:
        return cache.incr(key)
    except ValueError:  # no such key yet (or it just expired)
        if cache.add(key, 1, timeout):
            return 1
        return cache.incr(key)


def hit(name: str, key: str) -> Refusal | None:
    """Count one request by ``key`` against every rate of limit ``name``; a Refusal when one is exceeded."""
    rates = rates_for(name)
    if not rates:
        return None
    now = int(clock.now().timestamp())
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # an IP or API key never appears in the cache
    wait = 0
    try:
        for rate in rates:
            start = now - now % rate.seconds
            end = start + rate.seconds
            if _count(f"rl:{name}:{rate.count}/{rate.seconds}:{start}:{digest}", end - now + 1) > rate.count:
                wait = max(wait, end - now)
    except Exception:
        logger.warning("rate limit %s: cache unavailable, request let through", name, exc_info=True)
        return None
    if wait:
        logger.info("rate limit %s exceeded (key %s…), retry after %d s", name, digest[:8], wait)
        return Refusal(wait)
    return None


def ip_key(request: HttpRequest) -> str:
    return f"ip:{client_ip(request)}"


def wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return request.path.startswith("/api/") or ("application/json" in accept and "text/html" not in accept)


def too_many_requests(request: HttpRequest, refusal: Refusal, *args: Any, **kwargs: Any) -> HttpResponse:
    """The default refusal: a Chinese page, or a JSON error for API clients; HTTP 429 with Retry-After."""
    if wants_json(request):
        body = {"detail": refusal.message, "code": "rate_limited", "retry_after": refusal.retry_after}
        return HttpResponse(
            json.dumps(body, ensure_ascii=False), status=429, content_type="application/json; charset=utf-8"
        )
    return render(request, "429.html", {"message": refusal.message, "retry_after": refusal.retry_after}, status=429)


View = Callable[..., HttpResponse]
Responder = Callable[..., HttpResponse]


def rate_limit(
    name: str,
    *,
    key: Callable[[HttpRequest], str] = ip_key,
    methods: tuple[str, ...] = ("POST",),
    respond: Responder = too_many_requests,
) -> Callable[[View], View]:
    """Refuse a view's ``methods`` beyond limit ``name`` with 429; ``respond(request, refusal, *args, **kwargs)``."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods:
                refusal = hit(name, key(request))
                if refusal is not None:
                    response = respond(request, refusal, *args, **kwargs)
                    response["Retry-After"] = str(refusal.retry_after)
                    return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
