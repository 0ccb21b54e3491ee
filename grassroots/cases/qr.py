"""Printable QR sheets: one A4 page per entrance (or per building without entrances).

Each page carries a QR code of the resident report page with the building (and entrance)
filled in, so a resident who scans it needs no GPS. Staff print them for the buildings and
compounds they may browse; anything outside their scope is a 404 like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse

from grassroots.accounts.scopes import scope_for
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.places import selectors as places
from grassroots.places.models import Building, Compound, Entrance

BROWSE = "places.browse"
INSTRUCTIONS = "扫码反映问题：拍照、描述，我们限时办理"
KINDS = ("buildings", "compounds")


def report_path(building_id: int, entrance_id: int | None = None) -> str:
    """The H5 report page's path with the building (and entrance) filled in."""
    query: dict[str, int] = {"building": building_id}
    if entrance_id is not None:
        query["entrance"] = entrance_id
    return f"{reverse('cases:h5_report')}?{urlencode(query)}"


def report_url(request: HttpRequest, building_id: int, entrance_id: int | None = None) -> str:
    """The absolute URL a sheet's QR code encodes (``SITE_URL`` wins over the request's host)."""
    path = report_path(building_id, entrance_id)
    site = str(getattr(settings, "SITE_URL", "") or "").rstrip("/")
    return f"{site}{path}" if site else request.build_absolute_uri(path)


def qr_data_uri(url: str) -> str:
    """An SVG data URI of the QR code (error correction M: survives a scratched sticker)."""
    return str(segno.make(url, error="m", micro=False).svg_data_uri(scale=10, border=2))


@dataclass(frozen=True)
class SheetPage:
    compound: str
    building: str
    entrance: str
    url: str
    qr: str


def _pages(request: HttpRequest, buildings: list[Building]) -> list[SheetPage]:
    entrances: dict[int, list[Entrance]] = {}
    for entrance in Entrance.objects.filter(building__in=buildings).order_by("building_id", "number"):
        entrances.setdefault(entrance.building_id, []).append(entrance)
    pages = []
    for building in buildings:
        compound = building.compound.name if building.compound_id and building.compound else ""
        choices: list[Entrance | None] = [*entrances.get(building.pk, [])] or [None]
        for entrance in choices:
            url = report_url(request, building.pk, entrance.pk if entrance else None)
            pages.append(SheetPage(compound, building.name, str(entrance) if entrance else "", url, qr_data_uri(url)))
    return pages


def _buildings(scope: Scope, kind: str, pk: int) -> tuple[str, list[Building]]:
    """The sheet's title and the buildings on it, all within ``scope`` (else NotFound)."""
    if kind == "buildings":
        building = places.building_get(scope=scope, building_id=pk)
        return str(building), [building]
    if kind == "compounds":
        compound = Compound.objects.filter(pk=pk).first()
        if compound is None or scope.area_path is None:
            raise NotFound()
        # A grid worker's scope may hold only some of a compound's buildings: print those.
        buildings = list(
            Building.objects.in_scope(scope).filter(compound=compound).select_related("compound").order_by("name", "id")
        )
        if not buildings:
            raise NotFound()
        return compound.name, buildings
    raise NotFound()


def sheet_html(request: HttpRequest, kind: str, pk: int, *, preview: bool = False) -> str:
    title, buildings = _buildings(scope_for(request.user, BROWSE), kind, pk)
    context = {"title": title, "pages": _pages(request, buildings), "instructions": INSTRUCTIONS, "preview": preview}
    return render_to_string("cases/qr/sheet.html", context, request=request)


def sheet_pdf(html: str, *, base_url: str, uncompressed: bool = False) -> bytes:
    from weasyprint import HTML  # heavy import: only where a PDF is made

    pdf: bytes = HTML(string=html, base_url=base_url).write_pdf(uncompressed_pdf=uncompressed)
    return pdf


def _filename(kind: str, pk: int) -> str:
    return f"qr-{'building' if kind == 'buildings' else 'compound'}-{pk}.pdf"


@login_required
def qr_sheet(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The printable PDF of a building's or a compound's QR codes."""
    html = sheet_html(request, kind, pk)
    body = sheet_pdf(html, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{_filename(kind, pk)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def qr_preview(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The same sheet as a web page, with a link to the PDF."""
    title, buildings = _buildings(scope_for(request.user, BROWSE), kind, pk)
    context: dict[str, Any] = {
        "title": title,
        "pages": _pages(request, buildings),
        "instructions": INSTRUCTIONS,
        "preview": True,
        "pdf_url": reverse("cases:qr_sheet", kwargs={"kind": kind, "pk": pk}),
    }
    return render(request, "cases/qr/sheet.html", context)
