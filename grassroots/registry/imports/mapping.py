"""Column mapping: a file's header texts → the fields the registry understands.

Columns are mapped by header text, never by position (calamine drops leading empty
columns, and every department orders its columns differently).
"""

from __future__ import annotations

import re
import unicodedata

# field → Chinese label, in the order the mapping page lists them.
FIELDS: dict[str, str] = {
    "name": "姓名",
    "id_number": "身份证号",
    "phone": "手机号",
    "sex": "性别",
    "birth_date": "出生日期",
    "ethnicity": "民族",
    "registered_address": "户籍地址",
    "actual_address": "现住址",
    "relation": "与户主关系",
    "residence_kind": "人员类型",
    "tag_disabled": "残疾人(是/否)",
    "tag_low_income": "低保(是/否)",
    "tag_living_alone": "独居(是/否)",
    "tag_veteran": "退役军人(是/否)",
}
REQUIRED = ("name", "id_number")
# Tag columns → Tag.code (registry/migrations/0002_default_tags.py).
TAG_FIELDS = {
    "tag_disabled": "disabled",
    "tag_low_income": "low_income",
    "tag_living_alone": "living_alone",
    "tag_veteran": "veteran",
}

SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "人员姓名", "居民姓名"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "身份证", "证件号", "身份证件号码"),
    "phone": ("手机", "手机号", "手机号码", "联系电话", "电话", "电话号码", "联系方式"),
    "sex": ("性别",),
    "birth_date": ("出生日期", "出生年月日", "生日"),
    "ethnicity": ("民族",),
    "registered_address": ("户籍地址", "户籍地", "户籍所在地", "户口所在地", "户籍详址"),
    "actual_address": ("现住址", "居住地址", "现居住地址", "实际居住地址", "住址", "现居地址"),
    "relation": ("与户主关系", "户主关系"),
    "residence_kind": ("人员类型", "户籍类型", "人口类型"),
    "tag_disabled": ("残疾", "残疾人", "是否残疾", "是否残疾人"),
    "tag_low_income": ("低保", "低保户", "是否低保", "低收入"),
    "tag_living_alone": ("独居", "独居老人", "是否独居"),
    "tag_veteran": ("退役军人", "是否退役军人"),
}
_BRACKETS = re.compile(r"\(.*?\)|\[.*?\]|【.*?】")
_NOISE = re.compile(r"[\s*:：]")


def normalise_header(text: str) -> str:
    """Full-width forms, spaces, "*" marks and bracketed notes such as (必填) removed."""
    text = unicodedata.normalize("NFKC", text)
    text = _BRACKETS.sub("", text)
    return _NOISE.sub("", text).lower()


_LOOKUP = {normalise_header(s): f for f, names in SYNONYMS.items() for s in names}


def field_for_header(header: str) -> str:
    """The field a header's text suggests, or "" when it means nothing to us."""
    return _LOOKUP.get(normalise_header(header), "")


def suggest_mapping(headers: list[str], saved: dict[str, str] | None = None) -> dict[str, str]:
    """header → field for every header: the source's saved choice first, then the synonym table.

    A field is given to one header only (the first that claims it).
    """
    saved = saved or {}
    result: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        choice = saved[header] if header in saved else field_for_header(header)
        if choice and (choice not in FIELDS or choice in taken):
            choice = ""
        if choice:
            taken.add(choice)
        result[header] = choice
    return result


def clean_mapping(headers: list[str], chosen: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Check a mapping from the page or the command: (mapping, Chinese errors)."""
    errors: list[str] = []
    mapping: dict[str, str] = {}
    owner: dict[str, str] = {}
    for header in headers:
        value = chosen.get(header, "")
        if value and value not in FIELDS:
            errors.append(f"列“{header}”选择了未知字段。")
            value = ""
        if value and value in owner:
            errors.append(f"“{FIELDS[value]}”同时对应了“{owner[value]}”和“{header}”两列，只能选一列。")
            value = ""
        if value:
            owner[value] = header
        mapping[header] = value
    for required in REQUIRED:
        if required not in owner:
            errors.append(f"必须指定哪一列是“{FIELDS[required]}”。")
    return mapping, errors
