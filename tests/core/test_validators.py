"""Credit codes (GB 32100-2015) and patent numbers."""

import pytest

from matchmaker.core.validators import credit_code_check_char, credit_code_error, patent_error


def test_known_valid_credit_code_passes():
    assert credit_code_error("91350100M000100Y43") is None


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91350100M000100Y4", "18位"),
        ("91350100M000100Y44", "校验位"),
        ("91350100M00010OY43", "无效字符"),
    ],
)
def test_bad_credit_codes_are_explained(code, message):
    assert message in credit_code_error(code)


def test_check_character_round_trips_for_generated_codes():
    first17 = "91210100MA0XXXXX1"
    code = first17 + credit_code_check_char(first17)
    assert credit_code_error(code) is None


@pytest.mark.parametrize(
    "number", ["CN201810123456.7", "ZL 2018 1 0123456.7", "CN108123456A", "201920123456X"]
)
def test_patent_numbers_in_common_formats_pass(number):
    assert patent_error(number) is None


@pytest.mark.parametrize("number", ["12345", "CN2018-0123", "专利一号"])
def test_malformed_patent_numbers_are_refused(number):
    assert "专利号格式不正确" in patent_error(number)
