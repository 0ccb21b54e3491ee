from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    # Uploaded files go to default storage: keep them out of the repository's var/.
    settings.MEDIA_ROOT = tmp_path / "media"
