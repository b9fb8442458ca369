from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hall.print.data import StaffBadge
from hall.print.guard import UnmaskedIdentifierError, check_public, find_unmasked
from hall.services.base.masking import mask_id_for_receipt, mask_phone


@pytest.mark.parametrize("text", ["身份证 11010519491231002X", "电话13812345678。", "440524188001010014",
                                  "手机 138 1234 5678"])
def test_unmasked_identifiers_found(text):
    assert find_unmasked(text)


@pytest.mark.parametrize("text", ["320581101-000-20260305-0012", "1101**********002X", "138****5678",
                                  "0512-52881234", "国发〔2014〕8号", "91350100M000100Y43"])
def test_masked_or_harmless_text_passes(text):
    assert find_unmasked(text) == []


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_masked_phone_never_flagged(phone):
    assert find_unmasked(f"联系电话：{mask_phone(phone)}") == []
    assert find_unmasked(f"联系电话：{phone}") != []


def test_masked_receipt_id_never_flagged():
    assert find_unmasked(mask_id_for_receipt("11010519491231002X")) == []


def test_public_check_refuses_and_does_not_echo_the_number():
    badge = StaffBadge("李小梅", "受理员 13812345678", "YS0307", "W03")
    with pytest.raises(UnmaskedIdentifierError) as err:
        check_public("挂牌上岗公示", badge)
    assert "13812345678" not in str(err.value)


def test_hall_lines_may_be_allowed():
    check_public("公示", "咨询电话 13912345678", allowed=["139-1234-5678"])


def test_public_check_scans_every_string_but_never_across_two():
    with pytest.raises(UnmaskedIdentifierError):
        check_public("公示", ["事项", "说明"], ("无", "联系 13812345678"))
    # Fragments of a number in neighbouring strings are not one number.
    check_public("公示", "电话 138", "1234 5678", "11010519491231", "002X")
