"""The review pages: capability, scope, masking, audit, decisions and the split on the person page.

Pairs are stored directly over records imported through the real pipeline (no engine run here:
tests/registry/test_linking.py covers the engine's side).
"""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.core.ids import make_id_number
from grassroots.registry.models import PairDecision, PairReason, Person, RecordPair, RecordStatus, SourceRecord
from tests.registry.conftest import login
from tests.registry.imports.helpers import csv_bytes, import_file, source

pytestmark = pytest.mark.django_db

ADDRESS = "阳光花园1幢1单元101室"
LI_ID = make_id_number("341221", date(1985, 6, 1), 12, "M")


@pytest.fixture
def wrong_merge(tree):  # type: ignore[no-untyped-def]
    """李四's number also on a civil-affairs row for 王芳: the import joined them by the number."""
    police, civil = source("police", 90, "公安"), source("civil", 70, "民政")
    import_file(
        csv_bytes([["李四", LI_ID, "13912340012", "男", ADDRESS, "", "常住", ""]]), "p.csv", police, tree.yushan
    )
    import_file(csv_bytes([["王芳", LI_ID, "13700001111", "", ADDRESS, "", "常住", ""]]), "c.csv", civil, tree.yushan)
    first, second = SourceRecord.objects.order_by("pk")
    pair = RecordPair.objects.create(
        left=first,
        right=second,
        path=first.path,
        reason=PairReason.NAMES_DIFFER,
        probability=0.0,
        levels={"name": 0, "id_number": 3},
    )
    return pair


def test_only_reviewers_reach_the_queue(tree, wrong_merge):
    assert login(tree.users[Role.GRID_WORKER]).get(reverse("review:queue")).status_code == 403
    assert login(tree.users[Role.PARTY_SECRETARY]).get(reverse("review:queue")).status_code == 403
    page = login(tree.users[Role.COMMUNITY_WORKER]).get(reverse("review:queue"))
    assert page.status_code == 200
    assert reverse("review:pair", args=[wrong_merge.pk]) in page.content.decode()
    # Another community's worker neither lists nor opens it.
    other = login(tree.outsiders[Role.COMMUNITY_WORKER])
    assert reverse("review:pair", args=[wrong_merge.pk]) not in other.get(reverse("review:queue")).content.decode()
    assert other.get(reverse("review:pair", args=[wrong_merge.pk])).status_code == 404


def test_the_pair_page_masks_numbers_explains_levels_and_is_audited(tree, wrong_merge):
    page = login(tree.users[Role.COMMUNITY_WORKER]).get(reverse("review:pair", args=[wrong_merge.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert LI_ID not in html and "13912340012" not in html and "13700001111" not in html
    assert LI_ID[:4] + "*" * 10 + LI_ID[-4:] in html
    assert "李四" in html and "王芳" in html and "完全不同" in html
    assert AuditEntry.objects.filter(action="registry.linkage.view").count() == 1


def test_a_different_answer_splits_the_chosen_record_and_moves_on(tree, wrong_merge):
    client = login(tree.users[Role.COMMUNITY_WORKER])
    url = reverse("review:pair", args=[wrong_merge.pk])
    bad = client.post(url, {"decision": "maybe"})
    assert bad.status_code == 400 and "请选择" in bad.content.decode()
    done = client.post(url, {"decision": "different", "detach": wrong_merge.right_id, "note": "冒用"})
    assert done.status_code == 302 and done.url == reverse("review:queue")
    wrong_merge.refresh_from_db()
    assert (wrong_merge.decision, wrong_merge.note) == (PairDecision.DIFFERENT, "冒用")
    right = SourceRecord.objects.get(pk=wrong_merge.right_id)
    assert (right.status, right.person_id) == (RecordStatus.HELD, None)
    assert Person.objects.get().name == "李四"  # the police row's name survives again
    held = client.get(reverse("review:held")).content.decode()
    assert "王芳" in held and "c.csv" in held
    decided = client.get(reverse("review:decided")).content.decode()
    assert "不是同一人" in decided and "冒用" in decided


def test_the_person_page_offers_the_split_to_reviewers_only(tree, wrong_merge):
    person = Person.objects.get()
    url = reverse("registry:person", args=[person.pk])
    split = reverse("review:split", args=[wrong_merge.right_id])
    assert split in login(tree.users[Role.COMMUNITY_WORKER]).get(url).content.decode()
    assert split not in login(tree.users[Role.GRID_WORKER]).get(url).content.decode()
    assert login(tree.users[Role.GRID_WORKER]).post(split, {"reason": "不是同一个人"}).status_code == 403

    client = login(tree.users[Role.COMMUNITY_WORKER])
    short = client.post(split, {"reason": "错"}, follow=True)
    assert "至少4个字" in short.content.decode()
    assert SourceRecord.objects.get(pk=wrong_merge.right_id).person_id == person.pk
    done = client.post(split, {"reason": "身份证号被他人使用"})
    assert done.status_code == 302
    assert SourceRecord.objects.get(pk=wrong_merge.right_id).status == RecordStatus.HELD
    assert RecordPair.objects.get(pk=wrong_merge.pk).decision == PairDecision.DIFFERENT
