"""The community's check-in QR code: SVG data URI (segno) and the A4 PDF (WeasyPrint)."""

from __future__ import annotations

import segno


def qr_data_uri(url: str) -> str:
    """An SVG data URI of the QR code (error correction M: survives a scratched poster)."""
    return str(segno.make(url, error="m", micro=False).svg_data_uri(scale=10, border=2))


def sheet_pdf(html: str, *, base_url: str) -> bytes:
    from weasyprint import HTML  # heavy import: only where a PDF is made

    pdf: bytes = HTML(string=html, base_url=base_url).write_pdf()
    return pdf
