"""Chinese names as linkage evidence: characters, pinyin, traditional/simplified.

Similarity is computed on characters (rapidfuzz), never on UTF-8 bytes: DuckDB's own
``jaro_winkler`` and ``levenshtein`` count bytes, so 张/章 would look 2 edits apart.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import lru_cache

import opencc
from pypinyin import lazy_pinyin
from rapidfuzz.distance import JaroWinkler

from grassroots.registry.search_keys import name_keys

_T2S = opencc.OpenCC("t2s")
_SEPARATORS = re.compile(r"[\s·•・.\-_,，、]+")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[^a-z]")


@lru_cache(maxsize=262144)
def simplify(name: str | None) -> str:
    """NFKC (full-width → half-width), no spaces or middle dots, traditional → simplified."""
    if not name:
        return ""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", str(name)).strip())
    if _HAN.search(text):
        return str(_T2S.convert(text))
    return text.lower()


@lru_cache(maxsize=262144)
def name_pinyin(name: str | None) -> str:
    """Lower-case pinyin without tones: 张伟 → zhangwei; a name written in Latin letters → itself."""
    text = simplify(name)
    if not text:
        return ""
    if not _HAN.search(text):
        return _LATIN.sub("", text.lower())
    # Character by character (cached): names are not phrases, and a city has few distinct characters.
    return name_keys(text[0])[0] + "".join(_char_pinyin(ch) for ch in text[1:])


@lru_cache(maxsize=65536)
def _char_pinyin(ch: str) -> str:
    return _LATIN.sub("", lazy_pinyin(ch, errors=lambda t: t.lower())[0])


def surname_pinyin(name: str | None) -> str:
    text = simplify(name)
    if not text:
        return ""
    if not _HAN.search(text):
        return ""  # Latin names: order of surname and given name is unknown
    return name_keys(text[0])[0]


def char_jaro_winkler(a: str | None, b: str | None) -> float:
    """Jaro-Winkler over characters of the simplified names (王伟/王玮 → 0.67, not a byte score)."""
    return float(JaroWinkler.normalized_similarity(simplify(a), simplify(b)))


def pinyin_jaro_winkler(a: str | None, b: str | None) -> float:
    return float(JaroWinkler.normalized_similarity(name_pinyin(a), name_pinyin(b)))


class NameRelation(StrEnum):
    MISSING = "missing"
    EXACT = "exact"  # same characters once simplified (陳/陈 are exact)
    HOMOPHONE = "homophone"  # same pinyin, different characters (张/章, 王伟/王玮)
    SIMILAR = "similar"  # one character off, or close pinyin
    DIFFERENT = "different"


CHAR_JW_SIMILAR = 0.8
PINYIN_JW_SIMILAR = 0.9


def compare_names(a: str | None, b: str | None) -> NameRelation:
    sa, sb = simplify(a), simplify(b)
    if not sa or not sb:
        return NameRelation.MISSING
    if sa == sb:
        return NameRelation.EXACT
    if name_pinyin(sa) == name_pinyin(sb):
        return NameRelation.HOMOPHONE
    if char_jaro_winkler(sa, sb) >= CHAR_JW_SIMILAR or pinyin_jaro_winkler(sa, sb) >= PINYIN_JW_SIMILAR:
        return NameRelation.SIMILAR
    return NameRelation.DIFFERENT
