"""The free-text rule as the services apply it, on SQLite and PostgreSQL: each field named as on screen, its
multi-line decision, and what used to crash (NUL on PostgreSQL, a lone surrogate anywhere, a phone of "0")."""

from __future__ import annotations

from datetime import datetime

import pytest

from hall.errors import HallError, ValidationError, ValidationErrors
from hall.services.cases import workflow
from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.services.registers import complaints
from hall.services.storage import settings
from hall.services.tickets import intake
from hall.services.tickets import record as tickets

NOW = datetime(2026, 3, 4, 9)


def _form(s, **applicant) -> intake.IntakeForm:
    marks = {m["name"]: "received" for m in catalog.current_item(s, "09").materials}
    fields = {"type": "person", "id_no": "11010519491231002X", "name": "张三", "phone": "13812345678",
              "address": "东村3组", **applicant}
    note = fields.pop("note", "")
    return intake.IntakeForm("09", intake.ApplicantForm(**fields), materials=marks, note=note)


def _message(call) -> str:
    with pytest.raises(HallError) as info:
        call()
    return str(info.value)


def test_intake_fields(hall_db, people):
    with hall_db.db.transaction() as s:
        r = intake.register(s, people["c02"], _form(s, note="第一行\r\n第二行\t（续）  "), now=NOW)
        assert tickets.get(s, r.number).note == "第一行\n第二行\t（续）"  # the note is multi-line
        assert tickets.get(s, "３２０５８１１０１－０００－" + r.number[14:]).number == r.number  # full-width
    for fields, expected in [
        ({"address": "东村\n3组"}, "住址（村/组）：不能换行（第 3 个字符），请写在一行内"),
        ({"phone": "0"}, "联系电话：应为11位手机号码，或带区号的固定电话（如0512-66881234）"),
        ({"name": "张\x00三"}, "申请人姓名：含有不可打印的控制字符（第 2 个字符），请删除后重试"),
        ({"note": "a\ud800"}, "备注：含有无法保存的残缺字符（第 2 个字符），请删除后重新输入"),
        ({"id_no": "1101051949123100\u202e2X"}, "公民身份号码：只能由数字组成"),
    ]:
        with hall_db.db.transaction() as s, pytest.raises(ValidationErrors) as info:
            intake.register(s, people["c02"], _form(s, **fields), now=NOW)
        assert any(p.startswith(expected) for p in info.value.problems), info.value.problems


def test_workflow_complaint_staff_and_settings_fields(hall_db, people):
    with hall_db.db.transaction() as s:
        number = intake.register(s, people["c02"], _form(s), now=NOW).number
        workflow.start(s, people["c02"], number, now=NOW)
    assert _message(lambda: _in(hall_db, lambda s: workflow.close(
        s, people["c02"], number, "approved", "办结\x07了", now=NOW))) == \
        "办理结果：含有不可打印的控制字符（第 3 个字符），请删除后重试"
    assert _message(lambda: _in(hall_db, lambda s: workflow.pause(
        s, people["c02"], number, "等待\n补正", now=NOW))) == "暂停原因：不能换行（第 3 个字符），请写在一行内"
    _in(hall_db, lambda s: workflow.close(s, people["c02"], number, "approved", "准予救助。\n\n 已发放  ", now=NOW))
    with hall_db.db.transaction() as s:
        assert tickets.get(s, number).result == "准予救助。\n\n 已发放"
    assert _message(lambda: _in(hall_db, lambda s: complaints.register(
        s, people["c02"], "等候\x00太久", "现场", now=NOW))) == \
        "投诉内容：含有不可打印的控制字符（第 3 个字符），请删除后重试"
    assert _message(lambda: _in(hall_db, lambda s: staff.authenticate(
        s, "c02", "clerk-pass-1\ud800", hall_db.node))) == "工号或密码不正确"
    assert _message(lambda: _in(hall_db, lambda s: settings.set_values(
        s, people["admin"], {"hall_name": "示例镇\n便民服务中心"}))) == \
        "中心名称：不能换行（第 4 个字符），请写在一行内"
    with pytest.raises(ValidationError, match="“bad key”不是可设置的项目"):
        _in(hall_db, lambda s: settings.set_values(s, people["admin"], {"bad\x00 key": 1}))


def _in(hall, fn):
    with hall.db.transaction() as s:
        return fn(s)
