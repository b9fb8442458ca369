"""The demo township's people: citizens and businesses who come to the hall, and the staff and intake points who
serve them (created through the real services, since they are few)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from hall.models import IntakePoint, Staff
from hall.services.base.actor import Actor
from hall.services.base.pinyin import initials
from hall.services.base.validators import CREDIT_ALPHABET, credit_check_char, id_check_char
from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.services.storage import settings
from hall.services.storage.db import Database

VILLAGES = ("001", "002", "003", "004")

# Surnames roughly by frequency (the first ones repeat to weigh them), then a few compound surnames.
SURNAMES = (
    "王王王李李李张张张刘刘陈陈杨杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
    "叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "慕容")
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国志红玉梅文辉鹏飞宇浩然俊峰婷雪琴云莲"
    "凤春晓晨阳林海波斌亮军荣新民福贵德义中学成德兴旺宏光永胜佳怡欣悦子涵梓轩诗雨思彤嘉豪一鸣"
)
AREA_CODES = ("320581",) * 12 + ("320582", "320583", "320585", "320506", "341221", "510722", "412723", "370826")
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
                   "157", "158", "159", "177", "180", "181", "182", "187", "188", "189", "198", "199")
STREETS = ("人民路", "建设路", "新华街", "中心街", "文化路", "长江路", "园区大道")
ORG_WORDS = ("兴农", "丰收", "绿源", "鑫盛", "宏达", "福满", "金穗", "惠民", "顺发", "永安", "瑞丰", "康乐", "和美")
ORG_SUFFIXES = ("种植专业合作社", "农机专业合作社", "家庭农场", "商贸有限公司", "建材经营部", "便利店", "小吃店",
                "养殖场", "劳务服务有限公司")


@dataclass(frozen=True)
class Person:
    type: str  # person | org
    id_no: str
    name: str
    sex: str
    birth: date | None
    phone: str
    address: str
    initials: str


def village_node_id(hall_node_id: str, point: str) -> str:
    """A village laptop's node id, stable for one hall so repeated runs extend the same chains."""
    return str(uuid.uuid5(uuid.UUID(hall_node_id), f"hall-demo-village-{point}"))


def ensure_points_and_staff(db: Database, system: Actor, rng: random.Random) -> int:
    """Two clerks per window, a manager and one proxy-staff per village point, created through the services."""
    added = 0
    with db.transaction() as session:
        names = settings.get(session, "village_names")
        for point in VILLAGES:
            if session.get(IntakePoint, point) is None:
                staff.add_intake_point(session, system, point, names.get(point, f"代办点{point}"))
        existing = set(session.scalars(select(Staff.staff_no)))
        forms = []
        for w in catalog.windows(session):
            for n in (1, 2):
                forms.append(staff.StaffForm(f"{w.code}{n:02d}", person_name(rng), "clerk", f"{w.name}窗口",
                                             window_code=w.code))
        forms.append(staff.StaffForm("M001", person_name(rng), "manager", "中心主任"))
        for point in VILLAGES:
            forms.append(staff.StaffForm(f"V{point}", person_name(rng), "village", "村代办员",
                                         intake_point=point))
        for form in forms:
            if form.staff_no not in existing:
                staff.add_staff(session, system, form)
                added += 1
    return added


def person_name(rng: random.Random) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(SURNAMES)
    given = rng.choice(GIVEN_CHARS) if rng.random() < 0.3 else rng.choice(GIVEN_CHARS) + rng.choice(GIVEN_CHARS)
    return surname + given


class People:
    """The township's citizens and businesses, by home (0 = the town, 1… = the villages)."""

    def __init__(self, rng: random.Random, tickets: int, start: date, village_names: list[str]) -> None:
        self.rng = rng
        self._initials: dict[str, str] = {}
        size = max(60, int(tickets * 0.35))
        # Names repeat in real life (张伟); a bounded pool also keeps the pinyin look-ups few.
        pool = sorted({person_name(rng) for _ in range(min(size, 20_000))})
        seen: set[str] = set()
        homes = ["示例镇", *village_names]
        self.by_home: list[list[Person]] = [[] for _ in homes]
        latest_birth = date(start.year - 1, 1, 1).toordinal()
        earliest_birth = date(1935, 1, 1).toordinal()
        for i in range(size):
            home = i % len(homes)
            while True:
                birth = date.fromordinal(rng.randint(earliest_birth, latest_birth))
                seq = rng.randint(1, 999)
                body = f"{rng.choice(AREA_CODES)}{birth:%Y%m%d}{seq:03d}"
                id_no = body + id_check_char(body)
                if id_no not in seen:
                    seen.add(id_no)
                    break
            name = rng.choice(pool)
            phone = self._mobile() if rng.random() < 0.93 else ""
            if home == 0:
                address = f"示例镇{rng.choice(STREETS)}{rng.randint(1, 199)}号"
            else:
                address = f"{homes[home]}{rng.randint(1, 12)}组"
            self.by_home[home].append(Person("person", id_no, name, "male" if seq % 2 else "female", birth,
                                             phone, address, self.initials(name)))
        self.orgs: list[Person] = []
        org_seen: set[str] = set()
        for _ in range(max(10, size // 20)):
            body = "92" if rng.random() < 0.6 else "91"
            body += "320581" + "".join(rng.choice(CREDIT_ALPHABET) for _ in range(9))
            code = body + credit_check_char(body)
            name = f"示例镇{rng.choice(ORG_WORDS)}{rng.choice(ORG_SUFFIXES)}"
            if code in org_seen:
                continue
            org_seen.add(code)
            phone = f"0512-5{rng.randint(0, 9999999):07d}"
            self.orgs.append(Person("org", code, name, "", None, phone,
                                    f"示例镇{rng.choice(STREETS)}{rng.randint(1, 199)}号", self.initials(name)))
        self.everyone = [p for group in self.by_home for p in group]

    def initials(self, name: str) -> str:
        # What intake.register puts in the payload (computed once per name: the pinyin look-up is the cost).
        got = self._initials.get(name)
        if got is None:
            got = self._initials[name] = initials(name)[:40]
        return got

    def _mobile(self) -> str:
        return f"{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randint(0, 99_999_999):08d}"

    def pick(self, home: int) -> Person:
        # Some citizens come back often: a skewed pick over the home's list.
        group = self.by_home[home] if home else self.everyone
        return group[int(len(group) * self.rng.random() ** 1.4)]
