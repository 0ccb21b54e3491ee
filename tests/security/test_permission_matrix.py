"""Every page and API endpoint × every role × in and out of scope (issue 10, the permission matrix).

For each URL name in the resolver (pages, /api/v1/ and /open311/v2/) and each role, the user of
that role scoped to side A:
- GETs the URL built from A's objects: allowed (2xx/3xx, not to the login page) when the role holds
  the row's capability, else 403/404;
- GETs it built from B's objects: 403/404 (the administrator, who sees everything, only must not
  fail);
- never sees one of B's marker strings (names, ID number, phone, case number) in any body;
- never sees a full ID number or phone in any body: pages show them masked, and only the audited
  POST ``registry:reveal`` shows one in full.
POST-only URLs get an empty POST: 403/404 for roles without the capability and for B's objects,
and never a server error.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from grassroots.accounts.models import Role
from grassroots.accounts.scopes import CAPABILITIES
from grassroots.audit.models import AuditEntry
from grassroots.core.masking import mask_id_number, mask_phone
from tests.security.matrix import MATRIX, Row

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

DENIED = (403, 404)
LOGIN_URL = "/accounts/login/"


def url_names(resolver: URLResolver | None = None, namespace: str = "") -> set[str]:
    """Every named URL pattern under the root resolver, namespaced as ``reverse`` wants it."""
    resolver = resolver or get_resolver()
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(p for p in (namespace, pattern.namespace or "") if p)
            names |= url_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"unnamed URL pattern {pattern.pattern}: name it so the matrix can cover it"
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def test_every_url_is_in_the_matrix() -> None:
    names = url_names()
    missing = sorted(names - MATRIX.keys())
    stale = sorted(MATRIX.keys() - names)
    assert not missing, f"URL names without a row in tests/security/matrix.py: {missing}"
    assert not stale, f"rows for URL names that no longer exist: {stale}"
    assert any(n.startswith("api:") for n in names) and any(n.startswith("open311:") for n in names)


def allowed(row: Row, role: str) -> bool:
    if row.login:
        return True
    if row.roles is not None:
        return role in row.roles
    return any(c in CAPABILITIES[role] for c in row.need)


def url(name: str, row: Row, side: Any) -> str:
    return reverse(name, kwargs=row.kwargs(side) if row.kwargs else None)


def body(response: Any) -> str:
    """The body as text; JSON re-dumped without ASCII escapes so that Chinese markers match."""
    streaming = getattr(response, "streaming", False)
    text = (b"".join(response.streaming_content) if streaming else response.content).decode("utf-8", "ignore")
    if "json" in response.get("Content-Type", ""):
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return text


def empty_json(row: Row, response: Any) -> bool:
    """A 200 with an empty JSON list (or page of items), where the row accepts that as a refusal."""
    if not row.empty_for_others or response.status_code != 200:
        return False
    data = json.loads(response.content)
    return data == [] or (isinstance(data, dict) and data.get("items") == [])


def is_allowed(response: Any) -> bool:
    if 200 <= response.status_code < 300:
        return True
    return response.status_code in (301, 302, 303) and not response["Location"].startswith(LOGIN_URL)


def check_body(text: str, where: str, world: Any, *, row: Row, role: str, problems: list[str]) -> None:
    for value in world.sensitive:
        if value in text:
            problems.append(f"{where}: full ID number/phone {value} in the body")
    if role != Role.ADMIN and not row.public_data:
        leaked = [m for m in world.b_markers if m in text]
        if leaked:
            problems.append(f"{where}: side B's {leaked} in the body")


def fresh_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


GET_ROWS = sorted(name for name, row in MATRIX.items() if not row.post)
POST_ROWS = sorted(name for name, row in MATRIX.items() if row.post)


@pytest.mark.parametrize("name", GET_ROWS)
def test_get_by_role_in_and_out_of_scope(world: Any, name: str) -> None:
    row = MATRIX[name]
    in_url = url(name, row, world.a)
    out_url = url(name, row, world.b) if row.kwargs and row.scoped else None
    problems: list[str] = []
    query = row.query(world.a) if row.query else None
    for role, client in world.clients.items():
        response = client.get(in_url, query)
        where = f"{role} GET {in_url} → {response.status_code}"
        if response.status_code >= 500:
            problems.append(f"{where}: server error")
        elif row.public:
            pass  # anyone may call it; what it answers is the page's own test's business
        elif allowed(row, role) and not is_allowed(response):
            problems.append(f"{where}: expected allowed")
        elif not allowed(row, role) and response.status_code not in DENIED and not empty_json(row, response):
            problems.append(f"{where}: expected 403/404")
        check_body(body(response), where, world, row=row, role=role, problems=problems)
        if row.probe is not None:
            probe = client.get(in_url, {**(query or {}), **row.probe(world.b)})
            where = f"{role} GET {in_url} {row.probe(world.b)} (asks for B) → {probe.status_code}"
            if probe.status_code >= 500:
                problems.append(f"{where}: server error")
            check_body(body(probe), where, world, row=row, role=role, problems=problems)
        if out_url is None or not (allowed(row, role) or row.roles is not None):
            continue  # refused before any lookup (checked just above): B's URL would answer the same
        response = client.get(out_url, row.query(world.b) if row.query else None)
        where = f"{role} GET {out_url} (side B) → {response.status_code}"
        if response.status_code >= 500:
            problems.append(f"{where}: server error")
        elif role != Role.ADMIN and response.status_code not in DENIED:
            problems.append(f"{where}: expected 403/404")
        check_body(body(response), where, world, row=row, role=role, problems=problems)
    if not (row.public or row.login):
        response = Client().get(in_url, query)
        if response.status_code not in (302, 401, 403, 404) or (
            response.status_code == 302 and not response["Location"].startswith(LOGIN_URL)
        ):
            problems.append(f"anonymous GET {in_url} → {response.status_code}: expected the login page or 401")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", POST_ROWS)
def test_post_only_urls_refuse_the_roles_without_the_capability(world: Any, name: str) -> None:
    row = MATRIX[name]
    in_url = url(name, row, world.a)
    out_url = url(name, row, world.b) if row.kwargs and row.scoped else None
    # ninja validates a JSON body before the operation runs: an empty one is refused (400/422)
    # for every role before the capability is checked, and says nothing about the data.
    denied = (*DENIED, 400, 422) if name.startswith("api:") else DENIED
    problems: list[str] = []
    clients = world.clients
    if name == "accounts:logout":  # ends the session: on clients of its own, not the shared ones
        clients = {role: fresh_client(user) for role, user in world.users.items()}
    for role, client in clients.items():
        for target, side_b in ((in_url, False), (out_url, True)):
            if target is None or (side_b and not allowed(row, role)):
                continue
            response = client.post(target, {})
            where = f"{role} POST {target}{' (side B)' if side_b else ''} → {response.status_code}"
            if response.status_code >= 500:
                problems.append(f"{where}: server error")
            elif row.public:
                pass
            elif not allowed(row, role) and response.status_code not in denied:
                problems.append(f"{where}: expected 403/404")
            elif side_b and role != Role.ADMIN and is_allowed(response):
                problems.append(f"{where}: an empty POST on B's object was accepted")
            check_body(body(response), where, world, row=row, role=role, problems=problems)
    assert not problems, "\n".join(problems)


def test_the_masking_check_is_not_vacuous_and_only_the_audited_reveal_unmasks(world: Any) -> None:
    """A's person shows masked on the person page; the full number only from the reveal POST, with a reason."""
    person_url = reverse("registry:person", args=[world.a.person.pk])
    reveal_url = reverse("registry:reveal", args=[world.a.person.pk])
    masked_id, masked_phone = mask_id_number(world.a.id_number), mask_phone(world.a.phone)
    for role, client in world.clients.items():
        page = body(client.get(person_url))
        if "registry.view" in CAPABILITIES[role]:
            assert masked_id in page and masked_phone in page, role
        assert world.a.id_number not in page and world.a.phone not in page, role
        before = AuditEntry.objects.count()
        revealed = client.post(reveal_url, {"field": "id_number", "reason": "核实身份信息"})
        if "registry.unmask" in CAPABILITIES[role]:
            assert revealed.status_code == 200 and world.a.id_number in body(revealed), role
            assert AuditEntry.objects.count() > before, f"{role}: the unmasking was not audited"
        else:
            assert revealed.status_code in DENIED and world.a.id_number not in body(revealed), role
