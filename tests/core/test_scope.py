"""Scope: prefix checks in Python (covers_path) and in SQL (path_q) agree."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grassroots.core.scope import Scope
from grassroots.places.models import Area

PATHS = [
    "3205",
    "3205.1",
    "3205.10",
    "3205.1.2",
    "3205.10.2",
    "3205.1x",
    "3205.ab",
    "3205.AB",
    "3205.AB.01",
    "32050",
    "3206.1",
]


@pytest.mark.parametrize(
    ("scope_path", "path", "covered"),
    [
        ("3205.1", "3205.1", True),
        ("3205.1", "3205.1.2", True),
        ("3205.1", "3205.10", False),
        ("3205.1", "3205.10.2", False),
        ("3205.1", "3205.1x", False),
        ("3205.1", "3205", False),
        ("3205", "32050", False),
        ("3205.ab", "3205.AB", False),
        ("3205.ab", "3205.AB.01", False),
        ("3205", "", False),
    ],
)
def test_covers_path_prefix_edges(scope_path, path, covered):
    assert Scope(area_path=scope_path).covers_path(path) is covered


def test_everything_and_nothing():
    assert Scope.everything().is_everything
    assert Scope.everything().covers_path("3205.1")
    assert Scope.everything().covers_path("")
    assert not Scope.nothing().is_everything
    assert not Scope.nothing().covers_path("3205")
    assert not Scope.nothing().covers_path("")
    assert Scope(department_id=3).covers_path("3205") is False


def _make_rows(paths: list[str]) -> None:
    # Raw rows (not the service) so odd codes such as "ab"/"AB" can sit side by side.
    for i, path in enumerate(paths):
        Area.objects.create(level="city", code=f"c{i}", name=path, path=path, depth=path.count("."))


@pytest.mark.django_db
@pytest.mark.parametrize("scope_path", [*PATHS, "", None, "3205.1.2.9"])
def test_path_q_selects_exactly_the_rows_covers_path_accepts(scope_path):
    _make_rows(PATHS)
    scope = Scope(area_path=scope_path)
    in_sql = set(Area.objects.filter(scope.path_q("path")).values_list("path", flat=True))
    assert in_sql == {p for p in PATHS if scope.covers_path(p)}


@pytest.mark.django_db
def test_path_q_on_another_field_name():
    _make_rows(["3205", "3205.1", "3205.10"])
    rows = Area.objects.filter(Scope(area_path="3205.1").path_q("path")).values_list("path", flat=True)
    assert list(rows) == ["3205.1"]
    q = Scope(area_path="3205.1").path_q("area__path")
    assert "area__path" in str(q) and "area__path__path_startswith" in str(q)


segment = st.sampled_from(["1", "10", "2", "a", "A", "b1", "B1", "01"])
paths = st.lists(segment, min_size=1, max_size=3).map(".".join)


@pytest.mark.django_db
@given(rows=st.sets(paths, min_size=1, max_size=12), scope_path=paths)
def test_path_q_matches_covers_path_for_any_tree(rows, scope_path):
    Area.objects.all().delete()
    _make_rows(sorted(rows))
    scope = Scope(area_path=scope_path)
    in_sql = set(Area.objects.filter(scope.path_q()).values_list("path", flat=True))
    assert in_sql == {p for p in rows if scope.covers_path(p)}
