"""How search text is read: every form a clerk types is one kind of bounded lookup (properties over all inputs)."""

from __future__ import annotations

import unicodedata
from datetime import date

from hypothesis import example, given
from hypothesis import strategies as st

from hall.services.base.validators import id_check_char, search_text
from hall.services.tickets.numbering import NUMBER_RE
from hall.services.tickets.search import NUMBER_PREFIX_MIN, RANGE_KINDS, SEARCH_MAX, classify

townships = st.text("0123456789", min_size=9, max_size=9)
points = st.text("0123456789", min_size=3, max_size=3)
days = st.dates(date(2000, 1, 1), date(2099, 12, 31))
serials = st.integers(1, 9999)


@st.composite
def numbers(draw) -> str:
    return f"{draw(townships)}-{draw(points)}-{draw(days):%Y%m%d}-{draw(serials):04d}"


@st.composite
def id_numbers(draw) -> str:
    body = draw(st.text("0123456789", min_size=17, max_size=17))
    return body + id_check_char(body)


def full_width(text: str) -> str:
    """What a Chinese input method in full-width mode sends for the same keys."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(st.text(max_size=40))
@example("")
@example("   ")
@example("-")
@example("\u3000")
def test_every_text_has_exactly_one_reading(text):
    s = classify(text)
    assert s.kind in {"none", "short", "number", "number_prefix", "number_tail", "number_day", "serial", "id",
                      "id_tail", "id_prefix", "initials", "name"}
    assert s.ranged == (s.kind in RANGE_KINDS)
    # A search text is first made safe (control characters and the like are blanks): nothing else is "none".
    assert (s.kind == "none") == (unicodedata.normalize("NFKC", search_text(text, SEARCH_MAX)).strip() == "")
    assert classify(text) == s  # pure


@given(numbers())
def test_a_whole_number_is_that_ticket_also_in_full_width_and_with_spaces(number):
    assert classify(number).kind == "number"
    assert classify(full_width(number)) == classify(number)
    assert classify(f"  {number}\n").value == number


@given(numbers(), st.integers(0, 27))
def test_a_number_is_a_number_prefix_only_once_township_and_point_are_typed(number, cut):
    typed = number[:cut]
    kind = classify(typed).kind
    if cut == len(number):
        assert kind == "number"
    elif cut >= NUMBER_PREFIX_MIN:
        assert kind == "number_prefix"
    elif "-" in typed:
        assert kind == "short"  # would match the whole township: nothing is looked up
    else:
        assert kind != "number_prefix"  # bare digits: an ID prefix or tail, or not yet anything


@given(days, serials)
def test_the_tail_of_a_number_is_that_days_ticket(day, serial):
    tail = f"{day:%Y%m%d}-{serial:04d}"
    s = classify(tail)
    assert (s.kind, s.day, s.serial) == ("number_tail", f"{day:%Y%m%d}", f"{serial:04d}")
    for cut in range(9, len(tail)):  # the serial being typed: that day's tickets, narrowing
        part = classify(tail[:cut])
        assert (part.kind, part.day, part.serial) == ("number_day", f"{day:%Y%m%d}", tail[9:cut])
    assert classify(f"{day:%Y%m%d}").kind == "number_day"


@given(serials)
def test_four_digits_are_todays_serial_or_an_id_tail(serial):
    assert classify(f"{serial:04d}") == classify(full_width(f"{serial:04d}"))
    assert classify(f"{serial:04d}").kind == "serial"


@given(id_numbers())
def test_an_id_number_its_tails_and_its_start(id_no):
    assert classify(id_no).kind == "id" and classify(id_no.lower()).value == id_no.upper()
    assert classify(id_no[-6:]).kind == "id_tail"
    assert classify(id_no[-4:]).kind == ("serial" if id_no[-1].isdigit() else "id_tail")
    for cut in range(7, 18):
        if cut == 15:
            continue  # a whole old-style ID number
        if cut == 8 and classify(id_no[:8]).kind == "number_day":
            continue  # eight digits that make a date are a day's tickets
        assert classify(id_no[:cut]).kind == "id_prefix", id_no[:cut]


@given(st.text("0123456789", min_size=1, max_size=5).filter(lambda t: len(t) != 4))
def test_a_few_digits_are_not_yet_a_search(digits):
    assert classify(digits).kind == "short"


@given(st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=12))
def test_letters_are_pinyin_initials(letters):
    s = classify(letters)
    assert s.kind == "initials" and s.value == letters.lower()


@given(st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=6))
def test_chinese_is_a_name(name):
    assert classify(name) == classify(f" {name} ")
    assert classify(name).kind == "name"


def test_the_number_pattern_and_the_reading_agree():
    number = "320581101-000-20251231-0003"
    assert NUMBER_RE.match(number) and classify(number).kind == "number"
    assert classify("320581101-000-").kind == "number_prefix"
    assert classify("320581101-000").kind == "short"
    assert classify("20251231-0003").kind == "number_tail"
    assert classify("20251331-0003").kind == "name"  # no such day, no number shape: finds nothing, quickly
    assert classify("0003").kind == "serial"
    assert classify("123x").kind == "id_tail" and classify("123x").value == "123X"
    assert classify("32058119").kind == "id_prefix"  # not a date: the start of an ID number
    assert classify("李-四").kind == "name"
