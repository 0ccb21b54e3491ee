"""Case photos: checked by content, re-encoded without EXIF (GPS included), attached only by their uploader."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from PIL import ExifTags, Image

from grassroots.accounts.models import Role as AccountRole
from grassroots.cases import services
from grassroots.cases.models import CasePhoto, PhotoStage
from grassroots.cases.services.photos import photo_upload
from grassroots.core.errors import DomainError
from grassroots.core.scope import Scope
from tests.cases.test_cases_services import NOW, Env, make_env
from tests.factories import Tree, centre

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def env(tree: Tree) -> Env:
    return make_env(tree)


def jpeg_with_gps(width: int = 40, height: int = 20, orientation: int = 1) -> bytes:
    """A phone-like JPEG: maker, orientation and the GPS position of the reporter's home."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, width // 2, height))  # left half blue: shows which way it turned
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.Base.Model] = "Snapper 12"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 23.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (120.0, 57.0, 3.25)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (30, 30), mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def upload(user: Any, data: bytes, name: str = "photo.jpg") -> CasePhoto:
    return photo_upload(actor=user, upload=io.BytesIO(data), name=name)


def stored_bytes(photo: CasePhoto) -> bytes:
    with photo.file.open("rb") as handle:
        return bytes(handle.read())


# --- upload -------------------------------------------------------------------------------


def test_jpeg_loses_every_bit_of_exif_including_gps(env: Env) -> None:
    raw = jpeg_with_gps()
    with Image.open(io.BytesIO(raw)) as original:  # the test photo really carries what we strip
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] == (31.0, 23.0, 12.5)
    assert b"PhoneCo" in raw
    photo = upload(env.user(AccountRole.RESIDENT), raw, "IMG_0001.JPG")
    body = stored_bytes(photo)
    assert b"Exif" not in body and b"PhoneCo" not in body and b"Snapper" not in body
    with Image.open(io.BytesIO(body)) as clean:
        assert clean.format == "JPEG"
        assert len(clean.getexif()) == 0
        assert clean.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert "exif" not in clean.info
    assert (photo.content_type, photo.extension, photo.case_id) == ("image/jpeg", "jpg", None)
    assert photo.file.name.endswith(f"{photo.sha256}.jpg") and "IMG_0001" not in photo.file.name


def test_orientation_is_applied_before_exif_goes(env: Env) -> None:
    # Orientation 6: the camera held sideways; viewers rotate 90° clockwise.
    photo = upload(env.user(AccountRole.RESIDENT), jpeg_with_gps(40, 20, orientation=6))
    assert (photo.width, photo.height) == (20, 40)
    with Image.open(io.BytesIO(stored_bytes(photo))) as clean:
        assert clean.size == (20, 40)
        top = clean.convert("RGB").getpixel((10, 5))
        assert isinstance(top, tuple) and top[2] > 150  # the blue left half is now on top


def test_png_is_kept_as_png(env: Env) -> None:
    photo = upload(env.user(AccountRole.RESIDENT), png_bytes(), "screenshot.png")
    assert (photo.content_type, photo.extension, photo.width) == ("image/png", "png", 30)
    assert stored_bytes(photo).startswith(b"\x89PNG")


def test_text_renamed_jpg_is_refused(env: Env) -> None:
    with pytest.raises(DomainError, match="不是 JPEG、PNG 或 WebP"):
        upload(env.user(AccountRole.RESIDENT), b"just some text pretending\n" * 10, "photo.jpg")
    assert not CasePhoto.objects.exists()


def test_eleven_megabytes_is_refused(env: Env) -> None:
    data = b"\xff\xd8\xff" + b"\0" * (11 * 1024 * 1024)
    with pytest.raises(DomainError, match="超过 10 MB"):
        upload(env.user(AccountRole.RESIDENT), data)
    with pytest.raises(DomainError, match="超过 10 MB"):  # a lying size claim does not help either
        photo_upload(actor=env.user(AccountRole.RESIDENT), upload=io.BytesIO(data), name="x.jpg", size=100)


def test_decompression_bomb_is_refused(env: Env) -> None:
    bomb = png_bytes((10_000, 6_000), mode="1")  # 60 megapixels in a few kilobytes
    assert len(bomb) < 200_000
    with pytest.raises(DomainError, match="像素过多"):
        upload(env.user(AccountRole.RESIDENT), bomb, "bomb.png")


def test_truncated_jpeg_is_refused(env: Env) -> None:
    with pytest.raises(DomainError, match="损坏"):
        upload(env.user(AccountRole.RESIDENT), jpeg_with_gps()[:200])


# --- attach -------------------------------------------------------------------------------


def _submit(env: Env, user: Any, photos: list[int]) -> Any:
    lon, lat = centre(0, 0)
    return services.case_submit(
        actor=user,
        scope=Scope.everything(),
        channel="resident_h5",
        category=env.category,
        description="路面有坑",
        lon=lon,
        lat=lat,
        photos=photos,
        now=NOW,
    )


def test_photos_attach_to_the_report(env: Env) -> None:
    resident = env.user(AccountRole.RESIDENT)
    ids = [upload(resident, jpeg_with_gps()).pk, upload(resident, png_bytes()).pk]
    case = _submit(env, resident, ids).case
    assert sorted(CasePhoto.objects.filter(case=case, stage=PhotoStage.REPORT).values_list("pk", flat=True)) == ids


def test_ten_photos_are_refused(env: Env) -> None:
    resident = env.user(AccountRole.RESIDENT)
    ids = [upload(resident, png_bytes((10 + i, 10))).pk for i in range(10)]
    with pytest.raises(DomainError, match="9"):
        _submit(env, resident, ids)
    assert CasePhoto.objects.filter(case__isnull=False).count() == 0


def test_someone_elses_photo_cannot_be_attached(env: Env) -> None:
    mine = upload(env.user(AccountRole.RESIDENT), jpeg_with_gps())
    with pytest.raises(DomainError, match="不是您上传的"):
        _submit(env, env.user(AccountRole.GRID_WORKER), [mine.pk])
    mine.refresh_from_db()
    assert mine.case_id is None


def test_a_photo_is_attached_once_only(env: Env) -> None:
    resident = env.user(AccountRole.RESIDENT)
    photo = upload(resident, jpeg_with_gps())
    _submit(env, resident, [photo.pk])
    with pytest.raises(DomainError, match="已被使用"):
        _submit(env, resident, [photo.pk])


# --- serving ------------------------------------------------------------------------------


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_photo_view_serves_only_those_who_see_the_case(env: Env) -> None:
    resident = env.user(AccountRole.RESIDENT)
    photo = upload(resident, jpeg_with_gps())
    url = reverse("cases:photo", args=[photo.pk])
    assert _client(resident).get(url).status_code == 200  # the uploader, before it is attached
    assert _client(env.tree.outsiders[AccountRole.RESIDENT]).get(url).status_code == 404
    _submit(env, resident, [photo.pk])
    response = _client(resident).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"PhoneCo" not in b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert response["X-Content-Type-Options"] == "nosniff"
    for outsider in (AccountRole.RESIDENT, AccountRole.COMMUNITY_WORKER, AccountRole.GRID_WORKER):
        assert _client(env.tree.outsiders[outsider]).get(url).status_code == 404, outsider
    assert _client(env.user(AccountRole.COMMUNITY_WORKER)).get(url).status_code == 200  # the case's community
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
