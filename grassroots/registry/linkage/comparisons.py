"""Record features and the Splink comparisons built on them.

DuckDB's string functions count UTF-8 bytes (``levenshtein('张','章') = 2``), so nothing
here compares Chinese text with them. Features are computed in Python first: simplified
characters, pinyin, standard ID numbers, address keys. SQL then compares those columns
with equality, with byte functions on ASCII columns only (ID numbers, pinyin, dates), and
with ``cjk_jw``, ``cjk_lev`` and ``cjk_dl``: character-level Jaro-Winkler, Levenshtein and
Damerau-Levenshtein registered as vectorised UDFs (rapidfuzz) on DuckDB and on Spark alike,
so no level depends on one engine's built-in functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl

from grassroots.core.ids import normalize_phone
from grassroots.registry.linkage.address import address_keys
from grassroots.registry.linkage.ids import SQL_ID_TYPO, standardise_id
from grassroots.registry.linkage.names import CHAR_JW_SIMILAR, PINYIN_JW_SIMILAR, name_pinyin, simplify, surname_pinyin

# The input fields linkage reads; anything else on a record is carried through untouched.
FIELDS = ("record_id", "source", "name", "id_number", "birth_date", "sex", "phone", "address", "registered_address")
FEATURES = (
    "unique_id",
    "source",
    "name_s",
    "name_py",
    "surname_py",
    "id18",
    "id_valid",
    "birth_date",
    "sex",
    "phone",
    "phone_block",
    "addr_dwelling",
    "addr_building",
    "addr_place",
)
_DATE_DIGITS = re.compile(r"(\d{4})\D?(\d{1,2})\D?(\d{1,2})")
_SEX = {"M": "M", "F": "F", "男": "M", "女": "F", "1": "M", "2": "F", "m": "M", "f": "F"}


def records_frame(records: Iterable[Any] | pd.DataFrame) -> pd.DataFrame:
    """Dicts, dataclasses or a DataFrame → a DataFrame with at least the ``FIELDS`` columns."""
    if isinstance(records, pd.DataFrame):
        frame = records.copy()
    else:
        rows = [asdict(r) if is_dataclass(r) and not isinstance(r, type) else dict(r) for r in records]
        frame = pd.DataFrame(rows)
    if "record_id" not in frame.columns:
        raise ValueError("records need a record_id")
    for col in FIELDS:
        if col not in frame.columns:
            frame[col] = None
    frame["record_id"] = frame["record_id"].astype(str)
    if frame["record_id"].duplicated().any():
        raise ValueError("record_id values must be unique")
    return frame


def normalise_date(value: object) -> str | None:
    """A date, datetime or text such as 1985-3-2, 19850302 or 1985年3月2日 → '1985-03-02'."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    found = _DATE_DIGITS.search(str(value))
    if not found:
        return None
    try:
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3))).isoformat()
    except ValueError:
        return None


def _phone(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    digits = normalize_phone(str(value))
    return digits if digits.isdigit() and len(digits) >= 7 else None


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def _mapped(series: pd.Series, fn: Any) -> pd.Series:
    """Apply ``fn`` once per distinct value (names and addresses repeat a lot)."""
    uniques = series.drop_duplicates()
    table = {v: fn(v) for v in uniques}
    return series.map(table)


def features(records: Iterable[Any] | pd.DataFrame, *, max_block_share: int = 50) -> pd.DataFrame:
    """The comparison columns for each record, one row per record, keyed by ``unique_id``.

    Birth date and sex missing on a record are taken from its ID number when that is valid.
    A phone or dwelling shared by more than ``max_block_share`` records (a switchboard, a
    dormitory) is still compared but not used to block, so it cannot explode the pair count.
    """
    frame = records_frame(records)
    out = pd.DataFrame({"unique_id": frame["record_id"], "source": frame["source"].map(_text)})
    names = frame["name"].map(_text)
    out["name_s"] = _mapped(names, lambda v: simplify(v) or None)
    out["name_py"] = _mapped(names, lambda v: name_pinyin(v) or None)
    out["surname_py"] = _mapped(names, lambda v: surname_pinyin(v) or None)
    ids = _mapped(frame["id_number"].map(_text), standardise_id)
    out["id18"] = ids.map(lambda s: s.number)
    out["id_valid"] = ids.map(lambda s: bool(s.valid))
    birth = frame["birth_date"].map(normalise_date)
    from_id = ids.map(lambda s: s.birth_date.isoformat() if s.birth_date else None)
    out["birth_date"] = birth.where(birth.notna(), from_id)
    sex = frame["sex"].map(lambda v: _SEX.get(str(v).strip()) if _text(v) else None)
    out["sex"] = sex.where(sex.notna(), ids.map(lambda s: s.sex))
    out["phone"] = _mapped(frame["phone"], _phone)
    address = frame["address"].map(_text)
    address = address.where(address.notna(), frame["registered_address"].map(_text))
    keys = _mapped(address, address_keys)
    out["addr_dwelling"] = keys.map(lambda k: k.dwelling if k is not None and k.dwelling else None)
    out["addr_building"] = keys.map(lambda k: k.building if k is not None and k.building else None)
    out["addr_place"] = keys.map(lambda k: k.place if k is not None and k.place else None)
    phone_counts = out["phone"].map(out["phone"].value_counts())
    out["phone_block"] = out["phone"].where(phone_counts <= max_block_share)
    dwelling_counts = out["addr_dwelling"].map(out["addr_dwelling"].value_counts())
    out["addr_dwelling_block"] = out["addr_dwelling"].where(dwelling_counts <= max_block_share)
    return out.astype(object).where(out.notna(), None)


def comparisons() -> list[Any]:
    """One comparison per kind of evidence; levels ordered from strongest to weakest.

    Level SQL names columns ``<col>_l`` / ``<col>_r`` (Splink 4); blocking rules use ``l.`` / ``r.``.
    """
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_py"),
            cll.ExactMatchLevel("name_s", term_frequency_adjustments=True),
            cll.CustomLevel("name_py_l = name_py_r", "same pinyin (homophone, traditional or pinyin-only)"),
            cll.CustomLevel(
                f"cjk_jw(name_s_l, name_s_r) >= {CHAR_JW_SIMILAR}"
                f" or cjk_jw(name_py_l, name_py_r) >= {PINYIN_JW_SIMILAR}",
                "similar characters or pinyin",
            ),
            cll.CustomLevel("cjk_lev(name_s_l, name_s_r) = 1", "one character different, added or missing"),
            cll.ElseLevel(),
        ],
    )
    id_number = cl.CustomComparison(
        output_column_name="id_number",
        comparison_levels=[
            cll.NullLevel("id18"),
            cll.CustomLevel("id18_l = id18_r", "same number (15-digit upgraded)"),
            cll.CustomLevel(SQL_ID_TYPO, "one digit or a transposition, betrayed by the check digit"),
            cll.CustomLevel("id_valid_l and id_valid_r", "two different valid numbers"),
            cll.ElseLevel(),
        ],
    )
    birth = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel("cjk_dl(birth_date_l, birth_date_r) <= 1", "one digit or a swap"),
            cll.CustomLevel("substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4)", "same year"),
            cll.ElseLevel(),
        ],
    )
    sex = cl.CustomComparison(
        output_column_name="sex",
        comparison_levels=[cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel()],
    )
    # Phone and address in one comparison: household members share both, so treating them as
    # independent evidence (Fellegi-Sunter's assumption) would add their weights twice.
    contact = cl.CustomComparison(
        output_column_name="contact",
        comparison_levels=[
            cll.CustomLevel(
                "(phone_l is null or phone_r is null) and (addr_place_l is null or addr_place_r is null)",
                "no phone or address to compare",
            ).configure(is_null_level=True),
            cll.CustomLevel("phone_l = phone_r and addr_dwelling_l = addr_dwelling_r", "same phone and dwelling"),
            cll.ExactMatchLevel("phone", term_frequency_adjustments=True),
            cll.ExactMatchLevel("addr_dwelling"),
            cll.ExactMatchLevel("addr_building"),
            cll.ExactMatchLevel("addr_place"),
            cll.ElseLevel(),
        ],
    )
    return [name, id_number, birth, sex, contact]


# Each rule gives candidate pairs; a true pair needs to meet only one of them.
BLOCKING_RULES: tuple[str, ...] = (
    "l.id18 = r.id18",
    "l.name_py = r.name_py and l.birth_date = r.birth_date",
    "l.phone_block = r.phone_block",
    "l.addr_dwelling_block = r.addr_dwelling_block",
    # A mistyped ID digit: the other half of the number still agrees. A single wrong digit or two
    # swapped digits always fail the GB 11643 check, so one side is invalid; without that
    # condition these blocks (surname + birth region and month) grow with the city and pair
    # every namesake born in the same month: 89 pairs a record at 100M records against 3.2
    # (docs/linkage.md, "How blocking drives the number of pairs").
    "l.surname_py = r.surname_py and substr(l.id18, 13, 6) = substr(r.id18, 13, 6)"
    " and (not l.id_valid or not r.id_valid)",
    "l.surname_py = r.surname_py and substr(l.id18, 1, 12) = substr(r.id18, 1, 12)"
    " and (not l.id_valid or not r.id_valid)",
    "l.name_py = r.name_py and l.addr_building = r.addr_building",
)

# Rules for training: pairs found by these are mostly matches (for the prior) or are
# blocks that leave the other comparisons free to be learnt by EM.
DETERMINISTIC_RULES: tuple[str, ...] = (
    "l.id18 = r.id18 and l.id_valid",
    "l.name_s = r.name_s and l.birth_date = r.birth_date and l.addr_dwelling = r.addr_dwelling",
)
EM_RULES: tuple[str, ...] = (
    "l.id18 = r.id18",
    "l.name_py = r.name_py and l.birth_date = r.birth_date",
)


def valid_ids(frame: pd.DataFrame) -> Mapping[str, str]:
    """record id → valid 18-digit ID number, for the clustering constraints."""
    sub = frame[frame["id_valid"].astype(bool)]
    return dict(zip(sub["unique_id"], sub["id18"], strict=True))
