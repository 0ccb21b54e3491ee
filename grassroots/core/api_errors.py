"""The error answers of /api/v1/, declared on every operation so that its OpenAPI schema tells the truth.

config/api.py's handlers write them: 401 without a valid token or session, 403 when the role may
not, 404 for missing or out-of-scope objects, 409 for a stale version, 422 for invalid parameters or
a refused value; ninja itself answers 400 for a body it cannot parse.
"""

from __future__ import annotations

from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    detail: str
    code: str | None = None
    field: str | None = None
    errors: list[dict[str, Any]] | None = None


ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
