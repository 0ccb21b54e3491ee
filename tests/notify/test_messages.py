"""我的消息: a user sees only their own messages; showing them marks them read; the top bar counts unread."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from grassroots.accounts.models import Role
from grassroots.notify.models import Notification
from grassroots.notify.services import notify
from tests.factories import Tree

pytestmark = pytest.mark.django_db


def _tell(user_id: int, n: int, **payload: Any) -> None:
    with transaction.atomic():
        notify(
            recipients=[user_id],
            kind="test.news",
            subject=f"消息{n}",
            body=f"正文{n}",
            idempotency_key=f"test:{user_id}:{n}",
            payload=payload,
        )


def test_own_messages_only_and_read_on_display(client: Any, tree: Tree) -> None:
    resident = tree.users[Role.RESIDENT]
    other = tree.users[Role.GRID_WORKER]
    for n in range(3):
        _tell(resident.pk, n)
    _tell(other.pk, 99)
    client.force_login(resident)
    home = client.get("/")
    assert 'aria-label="3 条未读"' in home.content.decode()
    page = client.get("/messages/")
    body = page.content.decode()
    assert page.status_code == 200 and "消息2" in body and "消息99" not in body
    assert body.count(">新<") == 3
    assert not Notification.objects.filter(user_id=resident.pk, read_at__isnull=True).exists()
    assert Notification.objects.filter(user_id=other.pk, read_at__isnull=True).count() == 1
    again = client.get("/messages/").content.decode()
    assert ">新<" not in again and "条未读" not in again


def test_paginated_and_signed_in_only(client: Any, tree: Tree) -> None:
    assert client.get("/messages/").status_code == 302
    resident = tree.users[Role.RESIDENT]
    for n in range(25):
        _tell(resident.pk, n)
    client.force_login(resident)
    first = client.get("/messages/").content.decode()
    assert "第 1 / 2 页，共 25 条" in first and "消息24" in first and "消息4<" not in first
    second = client.get("/messages/?page=2").content.decode()
    assert "消息4<" in second and "消息0<" in second
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_messages_link_to_the_case_or_topic_they_are_about(client: Any, tree: Tree) -> None:
    resident, worker = tree.users[Role.RESIDENT], tree.users[Role.COMMUNITY_WORKER]
    _tell(resident.pk, 1, case_id=41)
    _tell(resident.pk, 2, topic=7)
    _tell(worker.pk, 3, topic=7)
    client.force_login(resident)
    body = client.get("/messages/").content.decode()
    assert 'href="/cases/h5/cases/41/"' in body and 'href="/engage/h5/topics/7/"' in body
    client.force_login(worker)
    assert 'href="/engage/topics/7/"' in client.get("/messages/").content.decode()
