"""ID numbers (GB 11643-1999) and mobile phone numbers."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from grassroots.core.ids import (
    PROVINCE_CODES,
    InvalidIdNumber,
    InvalidPhone,
    check_digit,
    id15_to_18,
    make_id_number,
    normalize_id_number,
    parse_id_number,
    parse_mobile,
)

TODAY = date(2026, 6, 1)

regions = st.builds(
    lambda province, rest: province + rest,
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)
births = st.dates(min_value=date(1880, 1, 1), max_value=TODAY)
sexes = st.sampled_from(["M", "F"])
valid_ids = st.builds(make_id_number, regions, births, st.integers(min_value=0, max_value=10_000), sexes)


def _is_valid(number: str) -> bool:
    try:
        parse_id_number(number, today=TODAY)
    except InvalidIdNumber:
        return False
    return True


# --- round trip and the check digit --------------------------------------------------


@given(region=regions, birth=births, sequence=st.integers(min_value=0, max_value=10_000), sex=sexes)
def test_make_then_parse_round_trips(region, birth, sequence, sex):
    number = make_id_number(region, birth, sequence, sex)
    info = parse_id_number(number, today=TODAY)
    assert len(number) == 18
    assert info.number == number
    assert info.region == region
    assert info.birth_date == birth
    assert info.sex == sex
    assert number[14:17] != "000"  # sequence 000 is never issued


@given(number=valid_ids, position=st.integers(min_value=0, max_value=16), data=st.data())
def test_any_single_digit_change_is_caught(number, position, data):
    new_digit = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    changed = number[:position] + new_digit + number[position + 1 :]
    assert not _is_valid(changed)


@given(number=valid_ids, position=st.integers(min_value=0, max_value=15))
def test_swapping_two_different_adjacent_digits_is_caught(number, position):
    a, b = number[position], number[position + 1]
    assume(a != b)
    swapped = number[:position] + b + a + number[position + 2 :]
    assert not _is_valid(swapped)


@given(number=valid_ids)
def test_wrong_check_character_is_reported_with_the_expected_one(number):
    wrong = next(c for c in "0123456789X" if c != number[17])
    with pytest.raises(InvalidIdNumber) as excinfo:
        parse_id_number(number[:17] + wrong, today=TODAY)
    assert excinfo.value.message == f"身份证号校验位错误：应为{number[17]}，实际为{wrong}。"
    assert excinfo.value.code == "invalid_id_number"


def test_check_digit_known_values():
    # The GB 11643-1999 worked example: 11010519491231002 → X.
    assert check_digit("11010519491231002") == "X"
    # Weighted sum 0 → "1", sum 2 → "X" (the table is "10X98765432").
    assert check_digit("00000000000000000") == "1"
    assert check_digit("00000000000000001") == "X"


# --- 15-digit IDs ------------------------------------------------------------------------


def test_15_digit_id_converts_to_18():
    assert id15_to_18("110105491231002") == "11010519491231002X"
    info = parse_id_number("110105491231002", today=TODAY)
    assert info.number == "11010519491231002X"
    assert info.birth_date == date(1949, 12, 31)
    assert info.sex == "F"  # 002 is even


@given(number=valid_ids.filter(lambda n: n[6:8] == "19"))
def test_15_digit_form_of_a_19xx_id_parses_to_the_same_person(number):
    short = number[:6] + number[8:17]
    assert parse_id_number(short, today=TODAY).number == number


def test_15_digit_with_letters_is_refused_in_chinese():
    with pytest.raises(InvalidIdNumber, match="15位身份证号应为15位数字"):
        id15_to_18("11010549123100X")
    with pytest.raises(InvalidIdNumber, match="15位身份证号应为15位数字"):
        parse_id_number("11010549123100X", today=TODAY)


# --- clear Chinese errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "身份证号应为18位（或15位），实际为0位。"),
        ("1101051949123100", "身份证号应为18位（或15位），实际为16位。"),
        ("11010519491231002X1", "身份证号应为18位（或15位），实际为19位。"),
        ("11010519491231A02X", "身份证号前17位必须是数字，最后一位是数字或X。"),
        ("11010519491231002Y", "身份证号前17位必须是数字，最后一位是数字或X。"),
        ("990105194912310021", "身份证号的地区码“990105”不是有效的省级代码开头。"),
        ("110105194902300021", "身份证号中的出生日期“19490230”不存在。"),
        ("110105202701010021", "身份证号中的出生日期“20270101”不合理。"),
        ("110105187912310021", "身份证号中的出生日期“18791231”不合理。"),
    ],
)
def test_bad_id_numbers_get_clear_chinese_messages(raw, message):
    with pytest.raises(InvalidIdNumber) as excinfo:
        parse_id_number(raw, today=TODAY)
    assert excinfo.value.message == message


def test_unicode_digits_other_than_full_width_are_refused():
    # Arabic-Indic digits match a bare \d; an ID number is ASCII digits only.
    arabic = "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in "11010519491231002X")
    with pytest.raises(InvalidIdNumber, match="前17位必须是数字"):
        parse_id_number(arabic, today=TODAY)
    with pytest.raises(InvalidPhone):
        parse_mobile("".join(chr(0x0660 + int(c)) for c in "13812345678"))


def test_a_trailing_newline_is_not_part_of_a_valid_number():
    assert parse_id_number("11010519491231002X\n", today=TODAY).number == "11010519491231002X"
    assert parse_mobile("13812345678\n") == "13812345678"


def test_full_width_digits_spaces_and_lower_case_x_are_normalised():
    full_width = "１１０１０５　１９４９１２３１　００２ｘ"
    assert normalize_id_number(full_width) == "11010519491231002X"
    assert parse_id_number(full_width, today=TODAY).number == "11010519491231002X"
    assert parse_id_number(" 11010519491231002x ", today=TODAY).number == "11010519491231002X"


def test_sex_comes_from_the_17th_digit():
    male = make_id_number("320583", date(1990, 1, 1), 7, "M")
    female = make_id_number("320583", date(1990, 1, 1), 7, "F")
    assert int(male[16]) % 2 == 1
    assert int(female[16]) % 2 == 0
    assert parse_id_number(male, today=TODAY).sex == "M"
    assert parse_id_number(female, today=TODAY).sex == "F"


def test_make_id_number_refuses_a_bad_region():
    with pytest.raises(ValueError, match="6 digits"):
        make_id_number("32058", date(1990, 1, 1), 1, "M")


# --- mobile phones -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+8613812345678",
        "+86 138 1234 5678",
        "008613812345678",
        "138-1234-5678",
        "(138) 1234 5678",
        "１３８１２３４５６７８",  # full-width, as typed with a Chinese IME
        "＋８６　１３８－１２３４－５６７８",
        " 138 1234 5678 ",
    ],
)
def test_mobile_numbers_are_normalised_to_11_digits(raw):
    assert parse_mobile(raw) == "13812345678"


@pytest.mark.parametrize(
    "raw",
    ["", "1381234567", "138123456789", "12812345678", "23812345678", "1381234567a", "+85213812345678", "051257001234"],
)
def test_bad_mobile_numbers_are_refused_in_chinese(raw):
    with pytest.raises(InvalidPhone) as excinfo:
        parse_mobile(raw)
    assert excinfo.value.message == f"手机号“{raw}”格式不正确：应为1开头的11位数字。"
    assert excinfo.value.code == "invalid_phone"


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.sampled_from("3456789"))
def test_every_1x_mobile_number_is_accepted(rest, second):
    number = "1" + second + rest
    assert parse_mobile(number) == number
    assert parse_mobile("+86" + number) == number
