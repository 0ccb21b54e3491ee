"""ID numbers (GB 11643-1999) as linkage evidence: exact, 15→18, typo or transposition.

The MOD 11-2 check digit detects every single-digit substitution and every transposition of
two adjacent digits. So when two ID numbers differ by one such edit and exactly one of them
fails its check digit, the failing one is a mistyped copy of the other: strong evidence of
the same person. Two *valid* numbers never differ by one such edit; twins' numbers differ in
the sequence and the check digit, and are evidence of two people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from grassroots.core.ids import check_digit, normalize_id_number

_DIGITS17 = re.compile(r"[0-9]{17}[0-9X]\Z")
_DIGITS15 = re.compile(r"[0-9]{15}\Z")


@dataclass(frozen=True)
class StdId:
    """A standardised ID number: 18 characters when it can be, and whether it checks out."""

    number: str | None  # 18 characters, or None when absent or unusable
    valid: bool  # check digit and birth date correct
    was15: bool = False
    birth_date: date | None = None
    sex: str | None = None  # "M" | "F", only from a valid number


def _birth(number: str) -> date | None:
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    return born if 1880 <= born.year <= 2100 else None


def standardise_id(raw: object) -> StdId:
    """Normalise full-width forms and spaces, upgrade 15 digits to 18, judge the check digit."""
    if raw is None:
        return StdId(None, False)
    text = normalize_id_number(str(raw))
    if not text or text.lower() in {"nan", "none"}:
        return StdId(None, False)
    was15 = False
    if _DIGITS15.match(text):
        first17 = text[:6] + "19" + text[6:]
        text, was15 = first17 + check_digit(first17), True
    if not _DIGITS17.match(text):
        return StdId(None, False)
    born = _birth(text)
    valid = born is not None and check_digit(text[:17]) == text[17]
    if not valid:
        return StdId(text, False, was15)
    sex = "M" if int(text[16]) % 2 == 1 else "F"
    return StdId(text, True, was15, born, sex)


class IdRelation(StrEnum):
    MISSING = "missing"  # one side has no usable number
    EXACT = "exact"  # the same 18 characters (after 15→18)
    TYPO = "typo"  # one digit differs and exactly one side fails its check digit
    TRANSPOSITION = "transposition"  # two adjacent digits swapped, exactly one side fails
    DIFFERENT = "different"


def _one_substitution(a: str, b: str) -> bool:
    return sum(x != y for x, y in zip(a, b, strict=True)) == 1


def _adjacent_transposition(a: str, b: str) -> bool:
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def compare_ids(a: object, b: object) -> IdRelation:
    """How two raw ID numbers relate (see the module doc for the check-digit judgement)."""
    left, right = (x if isinstance(x, StdId) else standardise_id(x) for x in (a, b))
    if left.number is None or right.number is None:
        return IdRelation.MISSING
    if left.number == right.number:
        return IdRelation.EXACT
    if left.valid == right.valid:  # both valid: two people; both invalid: nothing to judge by
        return IdRelation.DIFFERENT
    if _one_substitution(left.number, right.number):
        return IdRelation.TYPO
    if _adjacent_transposition(left.number, right.number):
        return IdRelation.TRANSPOSITION
    return IdRelation.DIFFERENT


# The same judgement in SQL over standardised columns ``id18`` and ``id_valid`` (Splink's
# ``_l``/``_r`` names). ``cjk_dl`` is the engine's Damerau-Levenshtein UDF (DuckDB and Spark
# alike); on two 18-character strings a distance of 1 is one substitution or one swap.
SQL_ID_TYPO = "id_valid_l <> id_valid_r and cjk_dl(id18_l, id18_r) = 1"
