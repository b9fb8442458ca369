"""管理 → 窗口与代办点 and the badge board's photo/résumé, through the services on a real SQLite hall: windows as
catalogue versions, intake points renamed and disabled, photos checked (hostile files refused), all ledger
events that a replay reproduces (``ledger check`` equal)."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from hall.errors import ConflictError, PermissionDenied, ValidationError
from hall.services import ledger_check
from hall.services.catalog import items as catalog
from hall.services.catalog import windows
from hall.services.people import photos, staff
from hall.services.reporting import papers


def _png(w: int, h: int, color: str = "navy") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), color).save(out, "PNG")
    return out.getvalue()


def test_windows_added_edited_disabled_enabled_as_catalogue_versions(hall_sqlite):
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    admin, clerk = people["admin"], people["c02"]
    db = hall_sqlite.db
    with db.transaction() as s:
        with pytest.raises(PermissionDenied):
            windows.add_window(s, clerk, windows.WindowForm("W12", "新窗口"))
        row = windows.add_window(s, admin, windows.WindowForm("ｗ12", "不动产窗口", "0512-1", 12))
        assert (row.code, row.name, row.active, row.items) == ("W12", "不动产窗口", True, 0)
        with pytest.raises(ConflictError, match="W12"):
            windows.add_window(s, admin, windows.WindowForm("W12", "重复"))
        for bad in ("12", "W", "W-1", "W123456789"):
            with pytest.raises(ValidationError, match="窗口编码"):
                windows.add_window(s, admin, windows.WindowForm(bad, "坏"))
        windows.update_window(s, admin, windows.WindowForm("W12", "不动产登记窗口", "0512-2", 12))
        with pytest.raises(ConflictError, match="事项"):  # W02 has items and a clerk
            windows.set_window_active(s, admin, "W02", False)
        windows.set_window_active(s, admin, "W12", False)
        assert "W12" not in {w.code for w in catalog.window_views(s)}
        with pytest.raises(ConflictError, match="已停用"):
            windows.add_window(s, admin, windows.WindowForm("W12", "再加"))
        again = windows.set_window_active(s, admin, "W12", True)
        assert (again.name, again.phone, again.active) == ("不动产登记窗口", "0512-2", True)
        before = len(catalog.current_items(s))
    with db.transaction() as s:
        assert len(catalog.current_items(s)) == before  # the items stayed as they were

    with db.transaction() as s:
        staff.update_intake_point(s, admin, "001", "东村村委会代办点", True)
        with pytest.raises(ConflictError, match="在岗人员"):  # v01 works there
            staff.update_intake_point(s, admin, "001", "东村村委会代办点", False)
        with pytest.raises(ConflictError, match="000"):
            staff.update_intake_point(s, admin, "000", "中心", False)
        staff.add_intake_point(s, admin, "002", "西村代办点")
        staff.update_intake_point(s, admin, "002", "西村代办点", False)
        points = {p.code: (p.name, p.active) for p in staff.intake_points(s)}
    assert points["001"] == ("东村村委会代办点", True) and points["002"] == ("西村代办点", False)
    assert ledger_check.check(db, limit=5).ok


def test_photo_and_resume_reach_the_badge_board(hall_sqlite):
    from hall_fixtures import actors_of

    admin = actors_of(hall_sqlite)["admin"]
    db = hall_sqlite.db
    with db.transaction() as s:
        staff.set_profile(s, admin, "c02", photo=_png(900, 1200), resume="2019年起在民政窗口\n擅长低保、临时救助")
        with pytest.raises(ValidationError, match="简历"):
            staff.set_profile(s, admin, "c02", resume="长" * (staff.RESUME_LIMIT + 1))
        with pytest.raises(ValidationError, match="不能包含身份证号、电话"):  # printed on a public board
            staff.set_profile(s, admin, "c02", resume="联系电话 13912345678")
        stored, resume = staff.profile(s, "c02")
        badge = next(b for b in papers.staff_badges(s) if b.staff_no == "c02")
    jpeg = Image.open(io.BytesIO(photos.photo_bytes(stored) or b""))
    assert (jpeg.format, jpeg.size) == ("JPEG", photos.SIZE) and len(stored) < 60_000
    assert badge.photo is not None and badge.resume == resume
    from hall.print import notices

    with db.reading() as s:
        hall = papers.hall_info(s)
    pdf = notices.StaffBoardRenderer([badge], hall).render(None)
    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert "擅长低保" in page.extract_text() and page.images  # the photo and the résumé are printed
    with db.transaction() as s:
        staff.set_profile(s, admin, "c02", photo=None)
        assert staff.profile(s, "c02")[0] == ""


@pytest.mark.parametrize("data, rule", [
    (b"", "空"), (b"GIF89a" + b"\0" * 100, "JPEG 或 PNG"), (b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "损坏"),
    (_png(30, 30), "太小"), (b"\xff\xd8\xff" + b"\0" * (photos.MAX_FILE_BYTES), "过大"),
])
def test_hostile_or_unusable_photos_are_refused_with_the_rule(data, rule):
    with pytest.raises(ValidationError, match=rule) as exc:
        photos.prepare_photo(data)
    assert exc.value.field == "照片"


def test_a_decompression_bomb_is_refused_before_decoding():
    out = io.BytesIO()
    Image.new("1", (6400, 6400)).save(out, "PNG")  # a few KB on disk, 41 megapixels
    assert len(out.getvalue()) < 100_000
    with pytest.raises(ValidationError, match="像素过多"):
        photos.prepare_photo(out.getvalue())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300).map(lambda b: photos.PNG + b) | st.binary(max_size=300).map(lambda b: photos.JPEG + b))
def test_any_damaged_image_bytes_get_a_validation_error(data):
    with pytest.raises(ValidationError):
        photos.prepare_photo(data)


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=12))
def test_window_codes_are_accepted_only_in_one_shape(text):
    try:
        code = windows.window_code(text)
    except ValidationError as exc:
        assert exc.field == "窗口编码"
        return
    assert windows.CODE_RULE.fullmatch(code) and windows.window_code(code) == code
