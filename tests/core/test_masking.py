"""Masked forms shown on pages."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grassroots.core.masking import mask_id_number, mask_name, mask_phone


def test_id_number_keeps_first_four_and_last_four():
    assert mask_id_number("320102199001011234") == "3201**********1234"
    assert mask_id_number("11010519491231002X") == "1101**********002X"


def test_phone_keeps_first_three_and_last_four():
    assert mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize("value", ["", "1", "12345678"])
def test_short_id_values_are_masked_completely(value):
    assert mask_id_number(value) == "*" * len(value)


@pytest.mark.parametrize("value", ["", "123", "123456"])
def test_short_phone_values_are_masked_completely(value):
    assert mask_phone(value) == "*" * len(value)


def test_name_keeps_the_family_name():
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "李"
    assert mask_name("") == ""


@given(st.text(alphabet="0123456789X", min_size=9, max_size=18))
def test_masked_id_has_the_same_length_and_hides_the_middle(number):
    masked = mask_id_number(number)
    assert len(masked) == len(number)
    assert masked[4:-4] == "*" * (len(number) - 8)
    assert masked[:4] == number[:4] and masked[-4:] == number[-4:]


@given(st.text(alphabet="0123456789", min_size=7, max_size=11))
def test_masked_phone_never_shows_more_than_seven_digits(number):
    masked = mask_phone(number)
    assert len(masked) == len(number)
    assert sum(c.isdigit() for c in masked) == 7
