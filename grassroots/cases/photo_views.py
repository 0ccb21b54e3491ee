"""Serving case photos: only to those who may read the case (or the uploader, before it is attached)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest

from grassroots.cases.models import CasePhoto
from grassroots.cases.selectors.cases import case_queryset
from grassroots.core.errors import NotFound


@login_required
def photo(request: HttpRequest, photo_id: int) -> FileResponse:
    row = CasePhoto.objects.filter(pk=photo_id).first()
    if row is None:
        raise NotFound("未找到该照片。")
    if row.case_id is None:
        allowed = row.uploaded_by_id == request.user.pk
    else:
        allowed = case_queryset(user=request.user).filter(pk=row.case_id).exists()
    if not allowed:
        raise NotFound("未找到该照片。")  # 404, not 403: say nothing of other people's cases
    try:
        handle = row.file.open("rb")
    except FileNotFoundError:
        raise NotFound("照片文件已丢失。") from None
    response = FileResponse(handle, content_type=row.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
