"""Printable QR sheets: one page per entrance, the right URL in each code, scope like every place page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from grassroots.accounts.models import Role as AccountRole
from grassroots.audit.services import SYSTEM
from grassroots.cases import qr
from grassroots.places import services as places
from grassroots.places.models import Building, Entrance
from tests.factories import Tree, centre

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def rendered(tree: Tree, user: Any, kind: str, pk: int) -> tuple[str, bytes]:
    """The sheet's HTML and an uncompressed PDF of it, so pages and fonts can be counted in the bytes."""
    request = RequestFactory().get("/")
    request.user = user
    html = qr.sheet_html(request, kind, pk)
    return html, qr.sheet_pdf(html, base_url="http://testserver/", uncompressed=True)


def test_report_url_names_building_and_entrance(tree: Tree, settings: Any) -> None:
    request = RequestFactory().get("/")
    entrance = Entrance.objects.get(building=tree.building1, number=1)
    url = qr.report_url(request, tree.building1.pk, entrance.pk)
    assert url == f"http://testserver/cases/h5/report/?building={tree.building1.pk}&entrance={entrance.pk}"
    assert (
        qr.report_url(request, tree.building3.pk) == f"http://testserver/cases/h5/report/?building={tree.building3.pk}"
    )
    settings.SITE_URL = "https://jiceng.example.cn/"
    assert qr.report_url(request, 5).startswith("https://jiceng.example.cn/cases/h5/report/?building=5")
    assert qr.qr_data_uri(url).startswith("data:image/svg+xml")


def test_building_sheet_one_page_per_entrance(tree: Tree) -> None:
    worker = tree.users[AccountRole.COMMUNITY_WORKER]
    html, pdf = rendered(tree, worker, "buildings", tree.building1.pk)
    assert pdf.startswith(b"%PDF") and pdf_pages(pdf) == 2
    assert b"Noto-Sans-CJK-SC" in pdf  # the Chinese text is set in the CJK font, not boxes
    assert html.count('class="sheet"') == 2
    for entrance in Entrance.objects.filter(building=tree.building1):
        expected = qr.report_url(RequestFactory().get("/"), tree.building1.pk, entrance.pk)
        assert expected.replace("&", "&amp;") in html
        assert f"{entrance.number}单元" in html
    assert "阳光花园 1幢" in html and qr.INSTRUCTIONS in html


def test_building_without_entrances_gets_one_page(tree: Tree) -> None:
    lon, lat = centre(0, 0)
    shop = places.building_create(
        actor=SYSTEM,
        grid=tree.grid1,
        name="沿街商铺",
        typology="non_residential",
        floors=1,
        entrances=1,
        dwellings_per_floor=1,
        lon=lon,
        lat=lat,
    )
    Entrance.objects.filter(building=shop).delete()
    html, pdf = rendered(tree, tree.users[AccountRole.ADMIN], "buildings", shop.pk)
    assert pdf_pages(pdf) == 1 and "沿街商铺" in html and "单元" not in html.split("<body>")[1]
    assert f"?building={shop.pk}&amp;" not in html and f"?building={shop.pk}" in html


def test_compound_sheet_has_every_building_in_scope(tree: Tree) -> None:
    lon, lat = centre(1, 0)
    compound = tree.building1.compound
    assert compound is not None
    places.building_create(
        actor=SYSTEM,
        grid=tree.grid2,
        compound=compound,
        name="2幢",
        typology="multi_storey",
        floors=6,
        entrances=3,
        dwellings_per_floor=2,
        lon=lon,
        lat=lat,
    )
    _, pdf = rendered(tree, tree.users[AccountRole.COMMUNITY_WORKER], "compounds", compound.pk)
    assert pdf_pages(pdf) == 5  # 1幢's two entrances and 2幢's three
    # A grid worker prints only the buildings of their own grid.
    html, pdf = rendered(tree, tree.users[AccountRole.GRID_WORKER], "compounds", compound.pk)
    assert pdf_pages(pdf) == 2 and "2幢" not in html


def test_the_pdf_view(tree: Tree) -> None:
    client = client_for(tree.users[AccountRole.COMMUNITY_WORKER])
    url = reverse("cases:qr_sheet", kwargs={"kind": "buildings", "pk": tree.building1.pk})
    assert url == f"/cases/qr/buildings/{tree.building1.pk}.pdf"
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f'filename="qr-building-{tree.building1.pk}.pdf"' in response["Content-Disposition"]
    compound = tree.building1.compound
    assert compound is not None
    response = client.get(reverse("cases:qr_sheet", kwargs={"kind": "compounds", "pk": compound.pk}))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    preview = client.get(reverse("cases:qr_preview", kwargs={"kind": "compounds", "pk": compound.pk}))
    assert preview.status_code == 200 and "共 2 页" in preview.content.decode()


def test_out_of_scope_is_404(tree: Tree) -> None:
    b1 = reverse("cases:qr_sheet", kwargs={"kind": "buildings", "pk": tree.building1.pk})
    compound = tree.building1.compound
    assert compound is not None
    c1 = reverse("cases:qr_sheet", kwargs={"kind": "compounds", "pk": compound.pk})
    for role in (AccountRole.COMMUNITY_WORKER, AccountRole.GRID_WORKER, AccountRole.SUBDISTRICT_DISPATCHER):
        outsider = client_for(tree.outsiders[role])
        assert outsider.get(b1).status_code == 404, role
        assert outsider.get(c1).status_code == 404, role
    resident = client_for(tree.users[AccountRole.RESIDENT])  # residents have no places.browse
    assert resident.get(b1).status_code == 404
    worker = client_for(tree.users[AccountRole.COMMUNITY_WORKER])
    assert worker.get(reverse("cases:qr_sheet", kwargs={"kind": "buildings", "pk": 999999})).status_code == 404
    assert worker.get(f"/cases/qr/dwellings/{tree.building1.pk}.pdf").status_code == 404
    anonymous = Client().get(b1)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert Building.objects.count() == 2
