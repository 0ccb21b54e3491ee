"""Scope: what part of the city a request may see.

A scope is an area path prefix (``"320500.320583.001"``) and/or a department.
Selectors below ``accounts`` take a Scope, never a user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Lookup, Q


@CharField.register_lookup
class PathStartsWith(Lookup):
    """Case-sensitive "starts with" for a plain string prefix.

    Django's ``startswith`` is ``LIKE``, which SQLite compares without regard to ASCII
    case, so a scope "3205.ab" would also cover "3205.AB". PostgreSQL keeps ``LIKE``
    (case-sensitive, and served by the ``varchar_pattern_ops`` index). On SQLite it is a
    range ``prefix <= x < successor(prefix)``: exact under the BINARY collation (UTF-8
    byte order is code-point order) and, unlike ``LIKE`` or ``substr``, served by an index.
    """

    lookup_name = "path_startswith"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        pattern = connection.ops.prep_for_like_query(str(self.rhs)) + "%"
        return f"{lhs} LIKE %s", [*lhs_params, pattern]

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        prefix = str(self.rhs)
        if not prefix:
            return "1 = 1", []
        successor = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return f"({lhs} >= %s AND {lhs} < %s)", [*lhs_params, prefix, *lhs_params, successor]


@dataclass(frozen=True)
class Scope:
    # None: no area at all; "": the whole tree (administrators).
    area_path: str | None = None
    department_id: int | None = None

    @classmethod
    def everything(cls) -> Scope:
        return cls(area_path="")

    @classmethod
    def nothing(cls) -> Scope:
        return cls()

    @property
    def is_everything(self) -> bool:
        return self.area_path == ""

    def covers_path(self, path: str) -> bool:
        """True when ``path`` lies at or below the scope's area."""
        if self.area_path is None:
            return False
        if self.area_path == "":
            return True
        return path == self.area_path or path.startswith(self.area_path + ".")

    def path_q(self, field: str = "path") -> Q:
        """A filter for rows whose ``field`` lies at or below the scope's area."""
        if self.area_path is None:
            return Q(pk__in=[])
        if self.area_path == "":
            # Not Q(): an empty Q vanishes when combined, so ``path_q() | Q(other)`` would narrow
            # the whole tree down to ``other``. NOT(nothing) matches every row and adds no SQL.
            return ~Q(pk__in=[])
        return Q(**{field: self.area_path}) | Q(**{f"{field}__path_startswith": self.area_path + "."})


def request_scope(request: Any, capability: str) -> Scope:
    """The scope of the request's user for ``capability``.

    Apps below ``accounts`` cannot import it, so ``accounts``' middleware puts a
    resolver on the request; without one (or without a user) the answer is nothing.
    """
    resolver = getattr(request, "scope_for", None)
    if resolver is None:
        return Scope.nothing()
    scope: Scope = resolver(capability)
    return scope
