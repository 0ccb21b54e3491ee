"""Delivery channels behind one interface: ``Channel.send(message) -> DeliveryResult``.

Channels never touch the database; the task records what they answer. HTTP goes through
``urllib`` from the standard library (one POST of JSON per message needs no client library).
Classification: 2xx → sent; 429, 5xx, timeouts and connection errors → retry; any other 4xx
→ permanent. The WeCom and DingTalk robots answer 200 with an ``errcode`` in the body, so
their bodies are read too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from grassroots.core.masking import mask_phone
from grassroots.notify.models import ChannelName, Outcome

logger = logging.getLogger(__name__)

_MAX_ERROR = 300  # characters of a remote answer kept for operators


@dataclass(frozen=True)
class Message:
    """What a channel needs to send one notification (the address already unsealed)."""

    idempotency_key: str
    kind: str
    subject: str
    body: str
    payload: dict[str, Any] = field(default_factory=dict)
    user_id: int | None = None
    address: str = ""

    @property
    def text(self) -> str:
        return f"{self.subject}\n{self.body}" if self.subject else self.body


@dataclass(frozen=True)
class DeliveryResult:
    outcome: Outcome
    error: str = ""  # English, for operators
    status_code: int | None = None

    @classmethod
    def sent(cls, status_code: int | None = None) -> DeliveryResult:
        return cls(Outcome.SENT, "", status_code)

    @classmethod
    def retry(cls, error: str, status_code: int | None = None) -> DeliveryResult:
        return cls(Outcome.RETRY, error[:_MAX_ERROR], status_code)

    @classmethod
    def permanent(cls, error: str, status_code: int | None = None) -> DeliveryResult:
        return cls(Outcome.PERMANENT, error[:_MAX_ERROR], status_code)


class Channel(ABC):
    name: str

    @abstractmethod
    def send(self, message: Message) -> DeliveryResult: ...


class ConsoleChannel(Channel):
    """The default: the outbox row itself is the in-app message; this only logs that it is ready."""

    name = ChannelName.CONSOLE

    def send(self, message: Message) -> DeliveryResult:
        logger.info(
            "notification %s kind=%s user=%s address=%s subject=%s",
            message.idempotency_key,
            message.kind,
            message.user_id,
            mask_phone(message.address) if message.address else "-",
            message.subject,
        )
        return DeliveryResult.sent()


def _classify_status(status: int, what: str) -> DeliveryResult:
    if 200 <= status < 300:
        return DeliveryResult.sent(status)
    if status == 429 or status >= 500:
        return DeliveryResult.retry(f"{what} answered HTTP {status}", status)
    return DeliveryResult.permanent(f"{what} answered HTTP {status}", status)


def post_json(
    url: str, body: dict[str, Any], *, headers: dict[str, str], timeout: float, what: str
) -> tuple[DeliveryResult, bytes]:
    """POST ``body`` as JSON; the result by HTTP status, and the response body for callers that read it."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        return DeliveryResult.permanent(f"{what} URL must be http or https"), b""
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            return _classify_status(response.status, what), response.read(64 * 1024)
    except urllib.error.HTTPError as exc:
        return _classify_status(exc.code, what), b""
    except TimeoutError:
        return DeliveryResult.retry(f"{what} timed out after {timeout:g} s"), b""
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            return DeliveryResult.retry(f"{what} timed out after {timeout:g} s"), b""
        return DeliveryResult.retry(f"{what} unreachable: {exc.reason}"), b""
    except OSError as exc:  # connection reset, refused, …
        return DeliveryResult.retry(f"{what} connection failed: {exc}"), b""


class SmsGatewayChannel(Channel):
    """An HTTP SMS gateway: POST JSON with an API key header and an Idempotency-Key header.

    Body: ``{"to", "subject", "content", "kind", "params", "idempotency_key"}``; any 2xx is success.
    """

    name = ChannelName.SMS

    def __init__(self, *, url: str, api_key: str, api_key_header: str = "X-API-Key", timeout: float = 5.0) -> None:
        self.url = url
        self.api_key = api_key
        self.api_key_header = api_key_header
        self.timeout = timeout

    def send(self, message: Message) -> DeliveryResult:
        if not self.url:
            return DeliveryResult.permanent("SMS gateway is not configured (GRASSROOTS_NOTIFY_SMS_URL)")
        if not message.address:
            return DeliveryResult.permanent("SMS needs a phone number and the notification has none")
        headers = {"Idempotency-Key": message.idempotency_key}
        if self.api_key:
            headers[self.api_key_header] = self.api_key
        body = {
            "to": message.address,
            "subject": message.subject,
            "content": message.body,
            "kind": message.kind,
            "params": message.payload,
            "idempotency_key": message.idempotency_key,
        }
        result, _ = post_json(self.url, body, headers=headers, timeout=self.timeout, what="SMS gateway")
        return result


class _RobotChannel(Channel):
    """A group robot webhook (WeCom, DingTalk): 200 with ``{"errcode": 0}`` is success."""

    what = "robot"
    rate_limit_codes: frozenset[int] = frozenset()

    def __init__(self, *, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout

    def target_url(self) -> str:
        return self.url

    @abstractmethod
    def body(self, message: Message) -> dict[str, Any]: ...

    def send(self, message: Message) -> DeliveryResult:
        if not self.url:
            return DeliveryResult.permanent(f"{self.what} webhook is not configured")
        headers = {"Idempotency-Key": message.idempotency_key}
        result, raw = post_json(
            self.target_url(), self.body(message), headers=headers, timeout=self.timeout, what=self.what
        )
        if result.outcome != Outcome.SENT:
            return result
        try:
            answer = json.loads(raw or b"{}")
            code = int(answer.get("errcode", 0))
        except (ValueError, AttributeError, TypeError):
            return DeliveryResult.permanent(f"{self.what} answered something other than JSON", result.status_code)
        if code == 0:
            return result
        error = f"{self.what} errcode {code}: {str(answer.get('errmsg', ''))[:200]}"
        if code in self.rate_limit_codes or code == -1:  # -1: "system busy" on both
            return DeliveryResult.retry(error, result.status_code)
        return DeliveryResult.permanent(error, result.status_code)


class WeComWebhookChannel(_RobotChannel):
    """企业微信群机器人: ``{"msgtype": "text", "text": {"content": ...}}``; a phone number is @-mentioned."""

    name = ChannelName.WECOM
    what = "WeCom webhook"
    rate_limit_codes = frozenset({45009, 45033})  # API frequency and concurrency limits

    def body(self, message: Message) -> dict[str, Any]:
        text: dict[str, Any] = {"content": message.text}
        if message.address:
            text["mentioned_mobile_list"] = [message.address]
        return {"msgtype": "text", "text": text}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's robot signature: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


class DingTalkWebhookChannel(_RobotChannel):
    """钉钉群机器人: same text shape; with a secret, ``timestamp`` and ``sign`` go in the query string."""

    name = ChannelName.DINGTALK
    what = "DingTalk webhook"
    rate_limit_codes = frozenset({130101, 660026})  # sent too fast; too many per minute

    def __init__(self, *, url: str, secret: str = "", timeout: float = 5.0) -> None:
        super().__init__(url=url, timeout=timeout)
        self.secret = secret

    def target_url(self) -> str:
        if not self.secret:
            return self.url
        timestamp = int(time.time() * 1000)  # DingTalk refuses a timestamp more than an hour off
        separator = "&" if urllib.parse.urlsplit(self.url).query else "?"
        return f"{self.url}{separator}timestamp={timestamp}&sign={dingtalk_sign(self.secret, timestamp)}"

    def body(self, message: Message) -> dict[str, Any]:
        body: dict[str, Any] = {"msgtype": "text", "text": {"content": message.text}}
        if message.address:
            body["at"] = {"atMobiles": [message.address], "isAtAll": False}
        return body


def get_channel(name: str) -> Channel:
    """The channel called ``name``, configured from settings now (so tests can override them)."""
    timeout = float(settings.NOTIFY_HTTP_TIMEOUT_SECONDS)
    if name == ChannelName.CONSOLE:
        return ConsoleChannel()
    if name == ChannelName.SMS:
        return SmsGatewayChannel(
            url=settings.NOTIFY_SMS_URL,
            api_key=settings.NOTIFY_SMS_API_KEY,
            api_key_header=settings.NOTIFY_SMS_API_KEY_HEADER,
            timeout=timeout,
        )
    if name == ChannelName.WECOM:
        return WeComWebhookChannel(url=settings.NOTIFY_WECOM_WEBHOOK_URL, timeout=timeout)
    if name == ChannelName.DINGTALK:
        return DingTalkWebhookChannel(
            url=settings.NOTIFY_DINGTALK_WEBHOOK_URL, secret=settings.NOTIFY_DINGTALK_SECRET, timeout=timeout
        )
    raise ImproperlyConfigured(f"unknown notification channel {name!r}")
