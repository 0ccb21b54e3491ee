"""Notices: audience, area, pinning, expiry, publish/withdraw and read counts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from grassroots.accounts.models import Role
from grassroots.core.errors import DomainError, NotFound
from grassroots.engage import services
from grassroots.engage.models import Notice, NoticeRead
from grassroots.engage.selectors import engage as reads
from tests.engage.conftest import NOW, Engage

pytestmark = pytest.mark.django_db


def _notice(eng: Engage, title: str, *, area=None, at=NOW, publish=True, **kwargs) -> Notice:  # type: ignore[no-untyped-def]
    params = {"kind": "outage", "audience": "residents", "body": "正文"}
    params.update(kwargs)
    return services.notice_save(
        actor=eng.tree.users[Role.ADMIN], area=area or eng.tree.chengbei, title=title, publish=publish, now=at, **params
    )


def test_residents_see_their_community_pinned_first_and_expired_hidden(eng: Engage) -> None:
    old = _notice(eng, "旧通知", at=NOW - timedelta(days=2))
    new = _notice(eng, "新通知", at=NOW - timedelta(days=1))
    pinned = _notice(eng, "置顶通知", at=NOW - timedelta(days=3), pinned=True)
    town = _notice(eng, "全镇停电", area=eng.tree.yushan, at=NOW - timedelta(hours=1))
    grid = _notice(eng, "网格一停水", area=eng.tree.grid1, at=NOW - timedelta(hours=2))
    _notice(eng, "已过期", at=NOW - timedelta(days=5), expires_at=NOW - timedelta(days=4) + timedelta(hours=1))
    _notice(eng, "草稿", publish=False)
    _notice(eng, "城南的", area=eng.tree.chengnan)
    _notice(eng, "给工作人员", audience="staff")
    _notice(eng, "给党员", audience="party_members")
    withdrawn = _notice(eng, "撤回的")
    services.notice_withdraw(actor=eng.worker, notice_id=withdrawn.pk)
    seen = list(reads.resident_notices(eng.resident, now=NOW))
    assert seen == [pinned, town, grid, new, old]
    assert list(reads.resident_notices(eng.tree.outsiders[Role.RESIDENT], now=NOW)) == []
    assert list(reads.resident_notices(eng.worker, now=NOW)) == []  # staff use the staff pages


def test_expiry_must_lie_ahead_and_scope_is_checked(eng: Engage) -> None:
    with pytest.raises(DomainError, match="有效期须晚于现在"):
        _notice(eng, "x", expires_at=NOW - timedelta(minutes=1))
    with pytest.raises(NotFound):
        services.notice_save(
            actor=eng.tree.outsiders[Role.COMMUNITY_WORKER], area=eng.tree.chengbei, title="x", body="y",
            kind="policy", audience="residents",
        )  # fmt: skip
    with pytest.raises(DomainError, match="请选择公告类别"):
        _notice(eng, "x", kind="gossip")


def test_a_read_is_counted_once_per_person(eng: Engage) -> None:
    notice = _notice(eng, "停水通知")
    assert services.notice_read(actor=eng.resident, notice=notice) is True
    assert services.notice_read(actor=eng.resident, notice=notice) is False
    services.notice_read(actor=eng.neighbours[0], notice=notice)
    assert Notice.objects.get(pk=notice.pk).read_count == 2 == NoticeRead.objects.count()
    assert reads.resident_notices(eng.resident, now=NOW).get(pk=notice.pk).read is True


def test_publish_and_withdraw(eng: Engage) -> None:
    notice = _notice(eng, "草稿", publish=False)
    assert notice.state == "draft" and notice.published_at is None
    with pytest.raises(DomainError, match="只有已发布"):
        services.notice_withdraw(actor=eng.worker, notice_id=notice.pk)
    services.notice_publish(actor=eng.worker, notice_id=notice.pk)
    with pytest.raises(DomainError, match="已发布"):
        services.notice_publish(actor=eng.worker, notice_id=notice.pk)
    assert services.notice_withdraw(actor=eng.worker, notice_id=notice.pk).state == "withdrawn"
