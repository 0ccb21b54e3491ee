"""Each channel against a real HTTP server on 127.0.0.1: what it sends and how it reads the answer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import time
import urllib.parse

import pytest

from grassroots.notify.channels import (
    ConsoleChannel,
    DingTalkWebhookChannel,
    Message,
    SmsGatewayChannel,
    WeComWebhookChannel,
    dingtalk_sign,
    get_channel,
)
from grassroots.notify.models import Outcome
from tests.notify.conftest import FakeServer, Reply, Seen

PHONE = "13812345678"
MESSAGE = Message(
    idempotency_key="case:1:overdue|sms|u7",
    kind="cases.overdue",
    subject="案件超期提醒",
    body="您有一件案件已超过办理时限，请尽快处理。",
    payload={"case": 1},
    user_id=7,
    address=PHONE,
)


def sms(server: FakeServer, timeout: float = 2.0) -> SmsGatewayChannel:
    return SmsGatewayChannel(url=f"{server.url}/sms", api_key="secret-key", timeout=timeout)


def test_console_channel_logs_without_the_phone(caplog):
    caplog.set_level("INFO", logger="grassroots.notify.channels")
    assert ConsoleChannel().send(MESSAGE).outcome == Outcome.SENT
    assert "case:1:overdue" in caplog.text
    assert PHONE not in caplog.text
    assert "138****5678" in caplog.text


def test_sms_success_sends_key_headers_and_json(fake_server):
    fake_server.script(Reply(200, {"ok": True}))
    result = sms(fake_server).send(MESSAGE)
    assert result.outcome == Outcome.SENT and result.status_code == 200
    [seen] = fake_server.requests
    assert seen.path == "/sms"
    assert seen.headers["x-api-key"] == "secret-key"
    assert seen.headers["idempotency-key"] == MESSAGE.idempotency_key
    assert seen.headers["content-type"].startswith("application/json")
    assert seen.body == {
        "to": PHONE,
        "subject": "案件超期提醒",
        "content": "您有一件案件已超过办理时限，请尽快处理。",
        "kind": "cases.overdue",
        "params": {"case": 1},
        "idempotency_key": MESSAGE.idempotency_key,
    }


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
        (429, Outcome.RETRY),
        (400, Outcome.PERMANENT),
        (401, Outcome.PERMANENT),
        (404, Outcome.PERMANENT),
    ],
)
def test_sms_http_status_classification(fake_server, status, outcome):
    fake_server.script(Reply(status, {"error": "x"}))
    result = sms(fake_server).send(MESSAGE)
    assert result.outcome == outcome
    assert result.status_code == status
    assert f"HTTP {status}" in result.error
    assert PHONE not in result.error


def test_sms_timeout_is_retryable(fake_server):
    fake_server.script(Reply(200, {"ok": True}, delay=1.0))
    started = time.monotonic()
    result = sms(fake_server, timeout=0.2).send(MESSAGE)
    assert time.monotonic() - started < 0.9
    assert result.outcome == Outcome.RETRY
    assert "timed out" in result.error


def test_sms_connection_refused_is_retryable():
    with socket.socket() as s:  # a port that was free a moment ago and has no listener now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    channel = SmsGatewayChannel(url=f"http://127.0.0.1:{port}/sms", api_key="", timeout=1)
    assert channel.send(MESSAGE).outcome == Outcome.RETRY


def test_sms_unconfigured_or_without_number_is_permanent(fake_server):
    assert SmsGatewayChannel(url="", api_key="").send(MESSAGE).outcome == Outcome.PERMANENT
    no_phone = Message(idempotency_key="k", kind="k", subject="s", body="b")
    assert sms(fake_server).send(no_phone).outcome == Outcome.PERMANENT
    assert SmsGatewayChannel(url="file:///etc/passwd", api_key="").send(MESSAGE).outcome == Outcome.PERMANENT
    assert fake_server.requests == []


def test_wecom_text_message_and_errcodes(fake_server):
    channel = WeComWebhookChannel(url=f"{fake_server.url}/cgi-bin/webhook/send?key=abc")
    fake_server.script(
        Reply(200, {"errcode": 0, "errmsg": "ok"}),
        Reply(200, {"errcode": 45009, "errmsg": "api freq out of limit"}),
        Reply(200, {"errcode": 93000, "errmsg": "invalid webhook url"}),
        Reply(502),
    )
    assert channel.send(MESSAGE).outcome == Outcome.SENT
    assert channel.send(MESSAGE).outcome == Outcome.RETRY
    permanent = channel.send(MESSAGE)
    assert permanent.outcome == Outcome.PERMANENT and "93000" in permanent.error
    assert channel.send(MESSAGE).outcome == Outcome.RETRY
    first = fake_server.requests[0]
    assert first.path == "/cgi-bin/webhook/send?key=abc"
    assert first.body == {
        "msgtype": "text",
        "text": {"content": f"{MESSAGE.subject}\n{MESSAGE.body}", "mentioned_mobile_list": [PHONE]},
    }


def _verify_dingtalk(secret: str):
    def responder(seen: Seen) -> Reply:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(seen.path).query)
        if "timestamp" not in query or "sign" not in query:
            return Reply(200, {"errcode": 310000, "errmsg": "sign not match"})
        timestamp = query["timestamp"][0]
        expected = base64.b64encode(
            hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        # parse_qs has already URL-decoded the value.
        if query["sign"][0] != expected or abs(int(timestamp) - time.time() * 1000) > 3_600_000:
            return Reply(200, {"errcode": 310000, "errmsg": "sign not match"})
        return Reply(200, {"errcode": 0, "errmsg": "ok"})

    return responder


def test_dingtalk_signature_is_accepted_by_the_server(fake_server):
    secret = "SEC0123456789abcdef+/="  # characters that must be URL-encoded in the signature
    fake_server.responder = _verify_dingtalk(secret)
    url = f"{fake_server.url}/robot/send?access_token=xyz"
    assert DingTalkWebhookChannel(url=url, secret=secret).send(MESSAGE).outcome == Outcome.SENT
    wrong = DingTalkWebhookChannel(url=url, secret="another-secret").send(MESSAGE)
    assert wrong.outcome == Outcome.PERMANENT and "310000" in wrong.error
    unsigned = DingTalkWebhookChannel(url=url).send(MESSAGE)
    assert unsigned.outcome == Outcome.PERMANENT
    seen = fake_server.requests[0]
    assert seen.path.startswith("/robot/send?access_token=xyz&timestamp=")
    assert seen.body == {
        "msgtype": "text",
        "text": {"content": f"{MESSAGE.subject}\n{MESSAGE.body}"},
        "at": {"atMobiles": [PHONE], "isAtAll": False},
    }


def test_dingtalk_sign_matches_the_documented_recipe():
    # DingTalk's own example: HmacSHA256 over "timestamp\nsecret", Base64, then urlEncode.
    digest = hmac.new(b"SECxyz", b"1700000000000\nSECxyz", hashlib.sha256).digest()
    assert dingtalk_sign("SECxyz", 1700000000000) == urllib.parse.quote_plus(base64.b64encode(digest).decode())


def test_dingtalk_rate_limit_is_retryable(fake_server):
    fake_server.script(Reply(200, {"errcode": 130101, "errmsg": "send too fast"}))
    channel = DingTalkWebhookChannel(url=f"{fake_server.url}/robot/send?access_token=xyz")
    assert channel.send(MESSAGE).outcome == Outcome.RETRY


def test_get_channel_reads_settings(notify_settings, fake_server):
    channel = get_channel("sms")
    assert isinstance(channel, SmsGatewayChannel)
    assert channel.url == f"{fake_server.url}/sms"
    assert isinstance(get_channel("console"), ConsoleChannel)
