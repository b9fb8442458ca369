"""Validators: ID numbers, credit codes, phones, names, free text, age — examples plus properties."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hall.errors import ValidationError
from hall.services.base.validators import (
    CREDIT_ALPHABET,
    EARLIEST_BIRTH,
    IdNumber,
    age_on,
    credit_check_char,
    id_check_char,
    is_minor_under_14,
    parse_credit_code,
    parse_id_number,
    parse_person_name,
    parse_phone,
)

TODAY = date(2026, 3, 5)


def rule_of(call) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        call()
    return info.value


# --- strategies -------------------------------------------------------------------------------------

areas = st.integers(min_value=0, max_value=999_999).map(lambda n: f"{n:06d}")
births = st.dates(min_value=EARLIEST_BIRTH, max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")


@st.composite
def valid_ids(draw, birth_strategy=births) -> str:
    first17 = draw(areas) + draw(birth_strategy).strftime("%Y%m%d") + draw(sequences)
    return first17 + id_check_char(first17)


@st.composite
def valid_credit_codes(draw) -> str:
    first17 = draw(st.text(alphabet=CREDIT_ALPHABET, min_size=17, max_size=17))
    return first17 + credit_check_char(first17)


def _same_after_normalising(replacement: str, original: str) -> bool:
    """A full-width '１' or a lower-case 'x' is the same character to the validator, not a change."""
    return unicodedata.normalize("NFKC", replacement).upper() == original


# --- ID numbers: examples ---------------------------------------------------------------------------


def test_standard_examples_parse():
    a = parse_id_number("11010519491231002X", today=TODAY)
    assert a == IdNumber("11010519491231002X", date(1949, 12, 31), "female", "110105", True, False)
    b = parse_id_number("440524188001010014", today=TODAY)
    assert (b.birth_date, b.sex, b.area_code, b.area_known) == (date(1880, 1, 1), "male", "440524", True)


def test_lower_case_x_spaces_and_full_width_are_accepted():
    assert parse_id_number(" 110105 19491231 002x ").number == "11010519491231002X"
    assert parse_id_number("１１０１０５１９４９１２３１００２ｘ").number == "11010519491231002X"


def test_check_char_function():
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("44052418800101001") == "4"
    with pytest.raises(ValueError):
        id_check_char("1234")


def test_fifteen_digit_number_is_upgraded():
    r = parse_id_number("110105491231002", today=TODAY)
    assert r.number == "11010519491231002X"
    assert r.upgraded_from_15
    assert r.birth_date == date(1949, 12, 31)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "公民身份号码：不能为空"),
        ("   ", "公民身份号码：不能为空"),
        ("1101051949123100", "公民身份号码：应为18位（或15位旧号码），现为16位"),
        ("11010519491231002X1", "公民身份号码：只能由数字组成，最后一位可以是X（现为19位，应为18位）"),
        ("1101051949123100AX", "公民身份号码：只能由数字组成，最后一位可以是X"),
        ("11010519491231002Y", "公民身份号码：只能由数字组成，最后一位可以是X"),
        ("11010519490231002X", "公民身份号码：出生日期（第7–14位）不是有效日期"),
        ("11010519491331002X", "公民身份号码：出生日期（第7–14位）不是有效日期"),
        ("110105491331002", "公民身份号码：出生日期（第7–12位）不是有效日期"),
        ("11010519491231002A", "公民身份号码：只能由数字组成，最后一位可以是X"),
        ("11010519491231002１", "公民身份号码：校验码不正确，请逐位核对"),
    ],
)
def test_bad_id_numbers_name_field_and_rule(text, expected):
    assert str(rule_of(lambda: parse_id_number(text, today=TODAY))) == expected


def test_wrong_check_char_never_reveals_the_right_one():
    for wrong in "0123456789":
        err = rule_of(lambda w=wrong: parse_id_number("11010519491231002" + w, today=TODAY))
        assert err.rule == "校验码不正确，请逐位核对"
        assert "X" not in err.rule


def test_future_and_too_early_birth_dates_rejected():
    first17 = "110105" + "20260306" + "001"
    err = rule_of(lambda: parse_id_number(first17 + id_check_char(first17), today=TODAY))
    assert err.rule == "出生日期2026年3月6日晚于今天"
    first17 = "110105" + "18791231" + "001"
    err = rule_of(lambda: parse_id_number(first17 + id_check_char(first17), today=TODAY))
    assert err.rule == "出生日期1879年12月31日早于1880年，请核对"


def test_unknown_province_is_a_warning_not_an_error():
    first17 = "990105" + "19800101" + "001"
    r = parse_id_number(first17 + id_check_char(first17), today=TODAY)
    assert not r.area_known
    assert r.area_code == "990105"


def test_custom_field_name_is_used():
    assert str(rule_of(lambda: parse_id_number("1", field="代理人身份证号"))).startswith("代理人身份证号：")


# --- ID numbers: properties -------------------------------------------------------------------------


@given(areas, births, sequences)
def test_generated_ids_round_trip_birth_and_sex(area, birth, seq):
    first17 = area + birth.strftime("%Y%m%d") + seq
    number = first17 + id_check_char(first17)
    r = parse_id_number(number.lower(), today=TODAY)
    assert r.number == number
    assert r.birth_date == birth
    assert r.sex == ("male" if int(seq) % 2 else "female")
    assert r.area_code == area
    assert r.area_known == (area[:2] in {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33",
                                         "34", "35", "36", "37", "41", "42", "43", "44", "45", "46", "50",
                                         "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81",
                                         "82", "83"})
    assert not r.upgraded_from_15


@given(valid_ids(), st.integers(min_value=0, max_value=17), st.characters(codec="utf-8"))
def test_any_single_character_change_of_an_id_is_rejected(number, pos, replacement):
    assume(not _same_after_normalising(replacement, number[pos]))
    changed = number[:pos] + replacement + number[pos + 1 :]
    with pytest.raises(ValidationError) as info:
        parse_id_number(changed, today=TODAY)
    assert info.value.field == "公民身份号码"


@given(valid_ids(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_any_single_digit_change_of_an_id_is_rejected(number, pos, replacement):
    # The same property over the characters a clerk can actually mistype, so every case is a real typo.
    assume(replacement != number[pos])
    with pytest.raises(ValidationError):
        parse_id_number(number[:pos] + replacement + number[pos + 1 :], today=TODAY)


@given(valid_ids(birth_strategy=st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31))))
def test_fifteen_digit_upgrade_yields_the_valid_eighteen_digit_number(number):
    legacy = number[:6] + number[8:17]
    r = parse_id_number(legacy, today=TODAY)
    assert r.number == number
    assert r.upgraded_from_15
    assert parse_id_number(r.number, today=TODAY).number == r.number


# --- credit codes -----------------------------------------------------------------------------------


def test_credit_code_examples():
    assert parse_credit_code("91350100M000100Y43") == "91350100M000100Y43"
    assert parse_credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"
    assert credit_check_char("91350100M000100Y4") == "3"
    err = rule_of(lambda: parse_credit_code("91350100M000100Y4Z"))
    assert str(err) == "统一社会信用代码：含有不允许的字符“Z”（只用数字和除I、O、Z、S、V外的大写字母）"
    assert rule_of(lambda: parse_credit_code("91350100M000100Y44")).rule == "校验码不正确，请逐位核对"
    assert rule_of(lambda: parse_credit_code("91350100M000100Y4")).rule == "应为18位，现为17位"
    assert rule_of(lambda: parse_credit_code("")).rule == "不能为空"
    assert str(rule_of(lambda: parse_credit_code("9", field="企业代码"))).startswith("企业代码：")


@given(valid_credit_codes())
def test_generated_credit_codes_parse(code):
    assert parse_credit_code(code.lower()) == code


@given(valid_credit_codes(), st.integers(min_value=0, max_value=17), st.characters(codec="utf-8"))
def test_any_single_character_change_of_a_credit_code_is_rejected(code, pos, replacement):
    assume(not _same_after_normalising(replacement, code[pos]))
    with pytest.raises(ValidationError):
        parse_credit_code(code[:pos] + replacement + code[pos + 1 :])


@given(valid_credit_codes(), st.integers(min_value=0, max_value=17), st.sampled_from(CREDIT_ALPHABET))
def test_any_in_alphabet_change_of_a_credit_code_is_rejected(code, pos, replacement):
    assume(replacement != code[pos])
    with pytest.raises(ValidationError) as info:
        parse_credit_code(code[:pos] + replacement + code[pos + 1 :])
    assert info.value.rule == "校验码不正确，请逐位核对"


# --- phones -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("0512-66881234", "0512-66881234"),
        ("051266881234", "0512-66881234"),
        ("0512 6688 1234", "0512-66881234"),
        ("(0512)6688123", "0512-6688123"),
        ("010-62345678", "010-62345678"),
        ("01062345678", "010-62345678"),
        ("025-84561234", "025-84561234"),
        ("0512-66881234-801", "0512-66881234转801"),
        ("0512-66881234转801", "0512-66881234转801"),
        ("0512-66881234 ext. 801", "0512-66881234转801"),
    ],
)
def test_phones_are_normalised(text, normal):
    assert parse_phone(text) == normal
    assert parse_phone(normal) == normal


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("", "不能为空"),
        ("1381234567", "手机号码应为11位，现为10位"),
        ("12812345678", "手机号码第二位应为3–9"),
        ("66881234", "固定电话请加区号（如0512-66881234）"),
        ("0512-0688123", "区号0512后的号码应为7或8位，且不以0或1开头"),
        ("0512-668812", "区号0512后的号码应为7或8位，且不以0或1开头"),
        ("138a2345678", "只能包含数字、空格和“-”；应为11位手机号码，或带区号的固定电话（如0512-66881234）"),
        ("13812345678转12", "手机号码不能带分机号"),
        ("5", "应为11位手机号码，或带区号的固定电话（如0512-66881234）"),
    ],
)
def test_bad_phones(text, rule):
    err = rule_of(lambda: parse_phone(text))
    assert (err.field, err.rule) == ("联系电话", rule)


@given(st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_every_mobile_shape_parses(second, rest):
    assert parse_phone(f"1{second}{rest}") == f"1{second}{rest}"


# --- names and free text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("张三", "张三"),
        ("  欧阳娜娜 ", "欧阳娜娜"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽 • 买买提", "阿依古丽·买买提"),
        ("阿依古丽・买买提", "阿依古丽·买买提"),
        ("John  Smith", "John Smith"),
        ("Ｊｏｈｎ Ｓｍｉｔｈ", "John Smith"),
        ("Jean-Pierre O'Neil", "Jean-Pierre O'Neil"),
        ("王〇", "王〇"),
        ("张\U00020000", "张\U00020000"),  # CJK extension B, common in rare given names
    ],
)
def test_names_accepted(text, normal):
    assert parse_person_name(text) == normal


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("", "不能为空"),
        ("  ", "不能为空"),
        ("张\x00三", "含有不可打印的控制字符（第 2 个字符），请删除后重试"),
        ("张\n三", "不能换行（第 2 个字符），请写在一行内"),
        ("张\u202e三", "含有改变文字方向的隐藏字符（第 2 个字符），请删除后重试"),
        ("张3", "不能包含数字"),
        ("张@三", "含有不允许的字符“@”（可用汉字、字母和间隔号“·”）"),
        ("·张三", "间隔号“·”、空格或连字符只能用在名字中间，且不能连用"),
        ("张··三", "间隔号“·”、空格或连字符只能用在名字中间，且不能连用"),
        ("张" * 41, "不能超过40个字（现为41个字）"),
    ],
)
def test_bad_names(text, rule):
    err = rule_of(lambda: parse_person_name(text))
    assert (err.field, err.rule) == ("姓名", rule)


def test_name_length_limit_and_field_are_parameters():
    err = rule_of(lambda: parse_person_name("张三丰", field="代理人姓名", max_len=2))
    assert str(err) == "代理人姓名：不能超过2个字（现为3个字）"


# --- age --------------------------------------------------------------------------------------------


def test_age_counts_from_the_day_after_the_birthday():
    birth = date(2012, 3, 5)
    assert age_on(birth, date(2026, 3, 4)) == 13
    assert age_on(birth, date(2026, 3, 5)) == 13  # the 14th birthday itself: not yet 满14周岁
    assert age_on(birth, date(2026, 3, 6)) == 14
    assert is_minor_under_14(birth, date(2026, 3, 5))
    assert not is_minor_under_14(birth, date(2026, 3, 6))
    assert age_on(birth, birth) == 0


def test_leap_day_birthday():
    birth = date(2000, 2, 29)
    assert age_on(birth, date(2014, 2, 28)) == 13
    assert age_on(birth, date(2014, 3, 1)) == 14
    assert age_on(birth, date(2016, 2, 29)) == 15
    assert age_on(birth, date(2016, 3, 1)) == 16


def test_age_before_birth_is_a_programming_error():
    with pytest.raises(ValueError):
        age_on(date(2020, 1, 2), date(2020, 1, 1))
    assert is_minor_under_14(date(2020, 1, 2), date(2020, 1, 1))


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
       st.integers(min_value=0, max_value=100), st.integers(min_value=0, max_value=400))
def test_age_is_monotone_and_steps_once_a_year(birth, years, days):
    on = birth + timedelta(days=days + 365 * years)
    later = on + timedelta(days=1)
    assert 0 <= age_on(birth, later) - age_on(birth, on) <= 1
    assert age_on(birth, on) in (on.year - birth.year - 1, on.year - birth.year, 0)
