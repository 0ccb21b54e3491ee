"""Search keys derived from names: full pinyin and initials, so 张三 is found as zhangsan or zs."""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import lazy_pinyin

_NON_LETTERS = re.compile(r"[^a-z]")
# Surnames read differently from the character's common reading (曾 zēng, not céng).
_SURNAME_READINGS = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "查": "zha",
    "区": "ou",
    "仇": "qiu",
    "朴": "piao",
    "覃": "qin",
    "乐": "yue",
    "盖": "ge",
    "缪": "miao",
    "翟": "zhai",
    "秘": "bi",
    "种": "chong",
    "员": "yun",
    "召": "shao",
    "繁": "po",
    "尉": "yu",
    "过": "guo",
    "隗": "wei",
    "长": "chang",
    "重": "chong",
    "沈": "shen",
    "柏": "bai",
}


@lru_cache(maxsize=65536)
def name_keys(name: str) -> tuple[str, str]:
    """(full pinyin, initials) in lower-case letters only, e.g. 张三 → ("zhangsan", "zs").

    Latin letters in a name are kept as one word; digits and punctuation are dropped.
    The first character reads as a surname; others take pypinyin's most common reading.
    """
    name = name.strip()
    syllables = lazy_pinyin(name, errors=lambda text: text.lower())
    if name and name[0] in _SURNAME_READINGS and syllables:
        syllables[0] = _SURNAME_READINGS[name[0]]
    full = _NON_LETTERS.sub("", "".join(syllables).lower())
    initials = _NON_LETTERS.sub("", "".join(s[:1] for s in syllables).lower())
    return full[:200], initials[:50]


def query_key(text: str) -> str:
    """A typed query reduced to the same alphabet as the keys."""
    return _NON_LETTERS.sub("", text.lower())
