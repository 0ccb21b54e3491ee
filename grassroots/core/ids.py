"""Chinese resident ID numbers (GB 11643-1999) and mobile phone numbers."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from grassroots.core.errors import DomainError

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# First two digits: the province-level codes of GB/T 2260 (plus 71/81/82 for Taiwan, HK, Macao).
PROVINCE_CODES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
# ASCII digits only: a bare \d also matches Arabic-Indic and other Unicode digits. \Z, not $,
# which would accept a trailing newline.
_ID18 = re.compile(r"[0-9]{17}[0-9X]\Z")
_ID15 = re.compile(r"[0-9]{15}\Z")
_MOBILE = re.compile(r"1[3-9][0-9]{9}\Z")
# Full-width digits (as typed with a Chinese input method) to ASCII.
_FULL_WIDTH_DIGITS = {0xFF10 + i: ord("0") + i for i in range(10)}


class InvalidIdNumber(DomainError):
    code = "invalid_id_number"


class InvalidPhone(DomainError):
    code = "invalid_phone"


@dataclass(frozen=True)
class IdInfo:
    number: str
    region: str
    birth_date: date
    sex: str  # "M" or "F"


def check_digit(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def normalize_id_number(raw: str) -> str:
    """Strip spaces and full-width forms; upper-case the X."""
    text = raw.strip().replace(" ", "").replace("\u3000", "")
    text = text.translate(_FULL_WIDTH_DIGITS | {0xFF38: ord("X"), 0xFF58: ord("X")})
    return text.upper()


def id15_to_18(number15: str) -> str:
    """Convert a first-generation 15-digit ID (19xx births) to 18 digits."""
    if not _ID15.match(number15):
        raise InvalidIdNumber("15位身份证号应为15位数字。")
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_digit(first17)


def parse_id_number(raw: str, *, today: date | None = None) -> IdInfo:
    """Validate an ID number and return what it encodes; 15-digit IDs are upgraded.

    Raises InvalidIdNumber with a Chinese message naming the problem.
    """
    number = normalize_id_number(raw)
    if len(number) == 15:
        number = id15_to_18(number)  # a 15-character value that is not all digits gets the 15-digit message
    if len(number) != 18:
        raise InvalidIdNumber(f"身份证号应为18位（或15位），实际为{len(number)}位。")
    if not _ID18.match(number):
        raise InvalidIdNumber("身份证号前17位必须是数字，最后一位是数字或X。")
    if number[:2] not in PROVINCE_CODES:
        raise InvalidIdNumber(f"身份证号的地区码“{number[:6]}”不是有效的省级代码开头。")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(f"身份证号中的出生日期“{number[6:14]}”不存在。") from None
    today = today or date.today()
    if birth > today or birth.year < 1880:
        raise InvalidIdNumber(f"身份证号中的出生日期“{number[6:14]}”不合理。")
    expected = check_digit(number[:17])
    if number[17] != expected:
        raise InvalidIdNumber(f"身份证号校验位错误：应为{expected}，实际为{number[17]}。")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdInfo(number=number, region=number[:6], birth_date=birth, sex=sex)


def make_id_number(region: str, birth: date, sequence: int, sex: str) -> str:
    """Build a valid ID: 6-digit region, birth date, 3-digit sequence whose parity is the sex."""
    if not (len(region) == 6 and region.isdigit()):
        raise ValueError("region must be 6 digits")
    seq = sequence % 500 * 2 + (1 if sex == "M" else 0)
    if seq == 0:
        seq = 2  # sequence 000 is not issued
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_digit(first17)


def normalize_phone(raw: str) -> str:
    text = raw.translate(_FULL_WIDTH_DIGITS | {0xFF0B: ord("+")})
    text = re.sub(r"[\s\-()（）－]", "", text)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    return text


def parse_mobile(raw: str) -> str:
    """Validate a mainland mobile number and return its 11 digits."""
    number = normalize_phone(raw)
    if not _MOBILE.match(number):
        raise InvalidPhone(f"手机号“{raw}”格式不正确：应为1开头的11位数字。")
    return number


# Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from this
# 31-character alphabet (no I, O, S, V, Z); the last is a MOD 31 check character.
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class InvalidCreditCode(DomainError):
    code = "invalid_credit_code"


def credit_check_char(first17: str) -> str:
    total = sum(_CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def parse_credit_code(raw: str) -> str:
    """Validate a unified social credit code and return it upper-cased."""
    code = unicodedata.normalize("NFKC", raw).strip().upper()
    if len(code) != 18:
        raise InvalidCreditCode(f"统一社会信用代码应为18位，实际为{len(code)}位。")
    bad = sorted({c for c in code if c not in _CREDIT_ALPHABET})
    if bad:
        raise InvalidCreditCode(f"统一社会信用代码含有不允许的字符：{'、'.join(bad)}（不使用I、O、S、V、Z）。")
    if not code[2:8].isdigit():
        raise InvalidCreditCode("统一社会信用代码第3至8位应为行政区划代码（数字）。")
    expected = credit_check_char(code[:17])
    if code[17] != expected:
        raise InvalidCreditCode(f"统一社会信用代码校验位错误：应为{expected}，实际为{code[17]}。")
    return code
