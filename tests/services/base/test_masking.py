"""Masking by audience (domain-rules.md §6) and the scanner that print/export tests use."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hall.services.base.masking import (
    COMPOUND_SURNAMES,
    Audience,
    FieldKind,
    find_unmasked_identifiers,
    mask_for,
    mask_id_for_clerk,
    mask_id_for_receipt,
    mask_name,
    mask_phone,
    village_only,
)
from hall.services.base.validators import id_check_char, parse_phone

ID = "320102198001011238"  # check char computed below, asserted valid
assert id_check_char(ID[:17]) == ID[17]

valid_ids = st.builds(
    lambda area, birth, seq: (f := f"{area:06d}{birth:%Y%m%d}{seq:03d}") + id_check_char(f),
    st.integers(min_value=110000, max_value=659999),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 3, 5)),
    st.integers(min_value=0, max_value=999),
)
mobiles = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)
han = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
noise = st.text(alphabet=st.sampled_from("办件编号受理通知书：，。 （）-ABC申请人张三"), max_size=30)
separator = st.text(alphabet=st.sampled_from("：，。 （）-申请人"), min_size=1, max_size=5)


# --- names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张*丰"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳娜", "欧阳*"),
        ("司马", "司*"),  # two characters: surname 司, not the compound surname 司马
        ("诸葛孔明", "诸葛**"),
        ("李小龙龙", "李**龙"),
        ("阿依古丽·买买提", "阿***·**提"),
        ("John Smith", "J*** ****h"),
        ("张", "*"),
        ("", ""),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_compound_surnames_from_the_brief_are_known():
    brief = "欧阳司马诸葛上官东方皇甫尉迟公孙慕容长孙宇文司徒夏侯轩辕令狐钟离端木独孤南宫西门"
    assert {brief[i : i + 2] for i in range(0, len(brief), 2)} <= COMPOUND_SURNAMES


@given(st.text(alphabet=han, min_size=2, max_size=6))
def test_masked_name_keeps_length_and_hides_the_given_name(name):
    m = mask_name(name)
    assert len(m) == len(name)
    assert m[0] == name[0]
    assert "*" in m
    # every shown character is the original one at the same place
    assert all(a == "*" or a == b for a, b in zip(m, name, strict=True))


# --- ID numbers and phones --------------------------------------------------------------------------


def test_id_masks():
    assert mask_id_for_clerk(ID) == "320102********1238"
    assert mask_id_for_receipt(ID) == "3201**********1238"
    assert mask_id_for_clerk("320102800101123") == "320102******123"
    assert mask_id_for_clerk("123") == "***"


@given(valid_ids)
def test_id_masks_never_contain_the_hidden_digits(number):
    clerk, receipt = mask_id_for_clerk(number), mask_id_for_receipt(number)
    assert clerk == number[:6] + "*" * 8 + number[14:]
    assert receipt == number[:4] + "*" * 10 + number[14:]
    assert number[6:14] not in clerk  # the birth date
    assert find_unmasked_identifiers(clerk + " " + receipt) == []


def test_phone_masks():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("138 1234 5678") == "138****5678"
    assert mask_phone("0512-66881234转801") == "0512-****1234"
    assert mask_phone("010-6234567") == "010-***4567"
    assert mask_phone("not a phone 99") == "**********e 99"
    assert mask_phone("") == ""


@given(mobiles)
def test_phone_mask_never_contains_the_hidden_digits(mobile):
    m = mask_phone(mobile)
    assert m == mobile[:3] + "****" + mobile[7:]
    assert find_unmasked_identifiers(m) == []


@given(st.sampled_from(["0512", "010", "0951", "025"]), st.sampled_from("23456789"),
       st.text(alphabet="0123456789", min_size=6, max_size=7))
def test_landline_mask_keeps_area_code_and_last_four(area, first, rest):
    normal = parse_phone(area + first + rest)
    local = first + rest
    assert mask_phone(normal) == f"{area}-" + "*" * (len(local) - 4) + local[-4:]


# --- addresses --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "village"),
    [
        ("江苏省苏州市吴中区临湖镇石舍村3组15号", "石舍村3组"),
        ("临湖镇石舍村第三村民小组28号", "石舍村第三村民小组"),
        ("村前镇张家村五组", "张家村五组"),  # the town's own name contains 村
        ("某某镇新市村二队12号", "新市村二队"),  # the village's name contains 市
        ("京口区象山街道新民社区15栋2单元", "新民社区"),
        ("某某乡某某村委会", "某某村委会"),
        ("北京市海淀区中关村大街1号", None),  # a street named after a village
        ("上海市黄浦区南京东路100号", None),
        ("", None),
        (None, None),
    ],
)
def test_village_only(address, village):
    assert village_only(address) == village


# --- the §6 table -----------------------------------------------------------------------------------


def test_mask_for_table():
    name, phone, addr = "张三丰", "13812345678", "临湖镇石舍村3组15号"
    table = {
        Audience.CLERK: (name, "320102********1238", phone, addr),
        Audience.RECEIPT: (name, "3201**********1238", "138****5678", "石舍村3组"),
        Audience.PUBLIC: ("张*丰", None, None, "石舍村3组"),
        Audience.STATISTICS: ("张*丰", None, None, None),
    }
    for audience, expected in table.items():
        got = tuple(
            mask_for(audience, kind, value)
            for kind, value in zip(FieldKind, (name, ID, phone, addr), strict=True)
        )
        assert got == expected, audience


def test_mask_for_minor_statutory_notice_and_missing_values():
    for kind, value in zip(FieldKind, ("张三", ID, "13812345678", "石舍村3组"), strict=True):
        assert mask_for(Audience.PUBLIC, kind, value, minor_under_14=True) is None
        assert mask_for(Audience.STATISTICS, kind, value, minor_under_14=True) is None
        assert mask_for(Audience.RECEIPT, kind, None) is None
    assert mask_for(Audience.RECEIPT, "name", "张三", minor_under_14=True) == "张三"
    assert mask_for(Audience.PUBLIC, "name", "张三丰", statutory_notice=True) == "张三丰"
    assert mask_for(Audience.STATISTICS, "name", "张三丰", statutory_notice=True) == "张*丰"
    with pytest.raises(ValueError):
        mask_for(Audience.CLERK, "salary", "1")


@given(valid_ids, mobiles, st.sampled_from(list(Audience)))
def test_no_audience_but_the_clerk_sees_a_full_identifier(number, mobile, audience):
    shown = [mask_for(audience, FieldKind.ID_NUMBER, number), mask_for(audience, FieldKind.PHONE, mobile)]
    leaked = find_unmasked_identifiers(" ".join(s for s in shown if s))
    assert leaked == ([mobile] if audience is Audience.CLERK else [])


# --- the scanner ------------------------------------------------------------------------------------


def test_scanner_examples():
    text = (
        "申请人张三，身份证号11010519491231002X，电话138 1234 5678；代理人110105 19491231 002x，"
        "座机0512-66881234。已脱敏：110105********002X 138****5678。"
        "校验码错：11010519491231002Y 110105194912310021；太长：1101051949123100201；"
        "办件编号 320581101-000-20260305-0012，手机号前后有数字：213812345678。"
    )
    assert find_unmasked_identifiers(text) == [
        "11010519491231002X",
        "138 1234 5678",
        "110105 19491231 002x",
    ]


@given(noise, valid_ids, separator, mobiles, noise)
def test_scanner_finds_every_full_identifier_in_any_text(a, number, b, mobile, c):
    found = find_unmasked_identifiers(f"{a}{number}{b}{mobile}{c}")
    assert found == [number, mobile]
