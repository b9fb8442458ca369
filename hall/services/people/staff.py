"""Staff, roles, B-posts, intake points and login (argon2 password hashes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, HallError, NotFound, PermissionDenied, ValidationError
from hall.models import Event, IntakePoint, Staff, Window
from hall.services.base.actor import ROLE_LABELS, Actor
from hall.services.base.masking import find_personal_identifiers
from hall.services.base.permissions import require_admin
from hall.services.base.validators import free_text, has_forbidden_chars, parse_key
from hall.services.storage import identity, ledger
from hall.services.storage.node import NodeIdentity

MIN_PASSWORD = 8
MAX_PASSWORD = 128  # argon2 takes any length; a pasted page is a mistake, not a password
ROLE_BY_LABEL = {v: k for k, v in ROLE_LABELS.items()}


@dataclass(frozen=True)
class StaffForm:
    staff_no: str
    name: str
    role: str
    post: str = ""
    window_code: str | None = None
    intake_point: str = "000"
    b_post_no: str | None = None
    password: str | None = None
    vanguard: bool | None = None  # (党员)先锋岗 on the badge board; None: leave as it is


@dataclass(frozen=True)
class StaffView:
    id: int
    staff_no: str
    name: str
    role: str
    post: str
    window_code: str | None
    intake_point: str
    b_post_id: int | None
    b_post_name: str
    active: bool
    photo_path: str = ""
    vanguard: bool = False  # (党员)先锋岗

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def _hasher():  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    # OWASP 2023 baseline for argon2id (19 MiB, t=2, p=1): ~50 ms on a counter PC, not the 0.3 s of the
    # library default, so login stays instant; argon2 still verifies hashes made with other parameters.
    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_password(password: str) -> str:
    """The argon2 hash of a new password. A password is not normalised (what is typed is what counts), but it
    must be typeable again: no control characters, lone surrogates or invisible direction marks."""
    if not isinstance(password, str):
        raise ValidationError("密码", "应为文字")
    if len(password) < MIN_PASSWORD:
        raise ValidationError("密码", f"至少{MIN_PASSWORD}位")
    if len(password) > MAX_PASSWORD:
        raise ValidationError("密码", f"最多{MAX_PASSWORD}位")
    if password.strip() != password or not password.strip():
        raise ValidationError("密码", "不能以空格开头或结尾")
    if has_forbidden_chars(password):
        raise ValidationError("密码", "含有无法输入的控制字符或隐藏字符")
    return _hasher().hash(password)


def _staff_no(value: str, field: str = "工号") -> str:
    """A staff number as typed: full-width letters and digits from an IME count as ASCII (see parse_key)."""
    no = parse_key(value, field, max_len=20)
    if not (no.isascii() and no.isalnum()):
        raise ValidationError(field, "应为1到20位字母或数字")
    return no


def add_staff(session: Session, actor: Actor, form: StaffForm) -> StaffView:
    require_admin(actor, "添加工作人员")
    staff_no = _staff_no(form.staff_no)
    name, role, post, window_code, intake_point = _checked(session, form)
    if session.scalars(select(Staff.id).where(Staff.staff_no == staff_no)).first() is not None:
        raise ConflictError(f"工号“{staff_no}”已存在")
    b_post_uid = None
    if form.b_post_no:
        b_post_no = _staff_no(form.b_post_no, "B岗（代理岗）")
        b_post = session.scalars(select(Staff).where(Staff.staff_no == b_post_no)).first()
        if b_post is None:
            raise ValidationError("B岗（代理岗）", f"工号“{b_post_no}”不存在")
        b_post_uid = b_post.uid
    password_hash = hash_password(form.password) if form.password else ""
    ledger.append(session, actor, "staff.added", {
        "uid": identity.new_uid(), "staff_no": staff_no, "name": name, "role": role, "post": post,
        "window_code": window_code, "intake_point": intake_point, "b_post_uid": b_post_uid,
        "password_hash": password_hash,
        **({"vanguard": True} if form.vanguard else {}),
    })
    return view(session, staff_no)


def _checked(session: Session, form: StaffForm) -> tuple[str, str, str, str | None, str]:
    """Name, role, post, window and intake point as stored, or the error naming the field and the rule."""
    name = free_text(form.name, "姓名", max_len=40)  # a staff name as the hall writes it (may carry a note)
    post = free_text(form.post, "岗位", max_len=60, required=False)
    role = ROLE_BY_LABEL.get(form.role, form.role) if isinstance(form.role, str) else ""
    if role not in ROLE_LABELS:
        raise ValidationError("角色", f"应为{'、'.join(ROLE_LABELS.values())}之一")
    window_code = parse_key(form.window_code, "窗口", max_len=8) if form.window_code else None
    intake_point = parse_key(form.intake_point, "受理点", max_len=3)
    if role == "clerk" and not window_code:
        raise ValidationError("窗口", "窗口工作人员必须指定所在窗口")
    if window_code and session.get(Window, window_code) is None:
        raise ValidationError("窗口", f"窗口“{window_code}”不存在")
    if session.get(IntakePoint, intake_point) is None:
        raise ValidationError("受理点", f"受理点“{intake_point}”不存在，请先添加")
    if role == "village" and intake_point == "000":
        raise ValidationError("受理点", "村代办员应属于某个村代办点（001起）")
    return name, role, post, window_code, intake_point


def _named(session: Session, p: dict[str, Any]) -> Staff:
    """The person an event names (``staff_uid``; release 1's ``staff_id``)."""
    return session.get_one(Staff, identity.staff_ref(session, p, "staff_uid", "staff_id"))


def _active_admins(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Staff).where(
        Staff.role == "admin", Staff.active, Staff.password_hash != "")) or 0


def update_staff(session: Session, actor: Actor, form: StaffForm) -> StaffView:
    """Name, role, post, window, intake point of the person with ``form.staff_no`` (a staff number never changes:
    it is on every ticket they handled). One ``staff.changed`` event naming only what changed."""
    require_admin(actor, "修改工作人员信息")
    person = by_number(session, form.staff_no)
    name, role, post, window_code, intake_point = _checked(session, form)
    before = {"name": person.name, "role": person.role, "post": person.post, "window_code": person.window_code,
              "intake_point": person.intake_point}
    after = {"name": name, "role": role, "post": post, "window_code": window_code, "intake_point": intake_point}
    if form.vanguard is not None:
        before["vanguard"], after["vanguard"] = bool(person.vanguard), bool(form.vanguard)
    changed = {k: v for k, v in after.items() if before[k] != v}
    if not changed:
        return view(session, person.staff_no)
    if person.role == "admin" and role != "admin" and person.active and _active_admins(session) <= 1:
        raise ConflictError(f"{person.name}是唯一的系统管理员，不能改为其他角色（请先添加另一位管理员）")
    ledger.append(session, actor, "staff.changed", {"staff_uid": person.uid, "values": changed})
    return view(session, person.staff_no)


@ledger.projector("staff.changed")
def _project_changed(session: Session, ev: Event, p: dict[str, Any]) -> None:
    person = _named(session, p)
    for key, value in p["values"].items():
        setattr(person, key, value)


def set_active(session: Session, actor: Actor, staff_no: str, active: bool, reason: str) -> None:
    """停用 (a person who left: they cannot log in; their tickets, history and figures stay theirs) or 启用."""
    require_admin(actor, "停用或启用工作人员")
    person = by_number(session, staff_no)
    reason = free_text(reason, "停用原因" if not active else "启用原因", max_len=200)
    if person.active == active:
        raise ConflictError(f"{person.name}（{person.staff_no}）已经是{'启用' if active else '停用'}状态")
    if not active:
        if person.id == actor.staff_id:
            raise ConflictError("不能停用自己的账号")
        if person.role == "admin" and _active_admins(session) <= 1:
            raise ConflictError(f"{person.name}是唯一的系统管理员，不能停用")
    ledger.append(session, actor, "staff.active_set", {"staff_uid": person.uid, "active": bool(active),
                                                       "reason": reason})


@ledger.projector("staff.active_set")
def _project_active(session: Session, ev: Event, p: dict[str, Any]) -> None:
    person = _named(session, p)
    person.active = bool(p["active"])


def reset_password(session: Session, actor: Actor, staff_no: str, temporary: str) -> None:
    """An administrator gives a forgotten password a temporary one; the person must choose their own at their
    next login (the administrator never knows the password in use)."""
    require_admin(actor, "重置密码")
    person = by_number(session, staff_no)
    ledger.append(session, actor, "staff.password_reset",
                  {"staff_uid": person.uid, "password_hash": hash_password(temporary)})


@ledger.projector("staff.password_reset")
def _project_reset(session: Session, ev: Event, p: dict[str, Any]) -> None:
    person = _named(session, p)
    person.password_hash = p["password_hash"]
    person.must_set_password = True


def must_set_password(session: Session, staff_id: int) -> bool:
    """After a reset: the person logs in with the temporary password and must set their own before working."""
    person = session.get(Staff, staff_id)
    return bool(person is not None and person.must_set_password)


@ledger.projector("staff.added")
def _project_added(session: Session, ev: Event, p: dict[str, Any]) -> None:
    # Release 1's event named no uid: the person's uid is derived from the event, as the upgrade derived it.
    uid = p.get("uid") or identity.uid_from_event(ev.event_id)
    values = dict(
        staff_no=p["staff_no"], name=p["name"], role=p["role"], post=p["post"],
        window_code=p["window_code"], intake_point=p["intake_point"],
        b_post_id=identity.staff_ref(session, p, "b_post_uid", "b_post_id"), password_hash=p["password_hash"],
        must_set_password=not p["password_hash"], active=True, created_at=ev.occurred_at,
        vanguard=bool(p.get("vanguard", False)),
    )
    # On a village laptop the person may already have a directory-only row (a hall clerk an earlier event named,
    # hall/services/storage/identity.py) who has since joined this village: their registration takes it over.
    person = session.scalars(select(Staff).where(Staff.uid == uid)).first() if identity.has_directory(session) \
        else None
    if person is None:
        person = Staff(uid=uid, **values)
        session.add(person)
    else:
        for name, value in values.items():
            setattr(person, name, value)
    session.flush()
    identity.remember_staff(session, uid, person.id)


def set_b_post(session: Session, actor: Actor, staff_no: str, b_post_no: str | None) -> None:
    require_admin(actor, "设置B岗")
    person = by_number(session, staff_no)
    b_uid = None
    if b_post_no:
        b_post = by_number(session, b_post_no)
        if b_post.id == person.id:
            raise ValidationError("B岗（代理岗）", "不能指定本人")
        b_uid = b_post.uid
    ledger.append(session, actor, "staff.b_post_set", {"staff_uid": person.uid, "b_post_uid": b_uid})


@ledger.projector("staff.b_post_set")
def _project_b_post(session: Session, ev: Event, p: dict[str, Any]) -> None:
    person = _named(session, p)
    person.b_post_id = identity.staff_ref(session, p, "b_post_uid", "b_post_id")


def set_password(session: Session, actor: Actor, staff_no: str, password: str) -> None:
    person = by_number(session, staff_no)
    if actor.role not in ("admin", "system") and actor.staff_id != person.id:
        raise PermissionDenied("只能修改自己的密码")
    ledger.append(session, actor, "staff.password_set",
                  {"staff_uid": person.uid, "password_hash": hash_password(password)})


@ledger.projector("staff.password_set")
def _project_password(session: Session, ev: Event, p: dict[str, Any]) -> None:
    person = _named(session, p)
    person.password_hash = p["password_hash"]
    person.must_set_password = False


def authenticate(session: Session, staff_no: str, password: str, node: NodeIdentity) -> Actor:
    """The actor for a correct staff number and password; one vague message for every failure."""
    from argon2.exceptions import InvalidHashError, VerificationError

    failure = HallError("工号或密码不正确")
    try:
        staff_no = _staff_no(staff_no)
    except ValidationError:
        raise failure from None
    person = session.scalars(select(Staff).where(Staff.staff_no == staff_no, Staff.active)).first()
    if person is None:
        listed = session.scalars(select(Staff).where(Staff.staff_no == staff_no)).first()
        if listed is not None and identity.directory_only(session, listed):
            raise PermissionDenied(f"该人员是中心工作人员，不能在村代办点电脑上登录（工号 {staff_no}，"
                                   "本机只从中心人员名录得知此人）")
    if person is None or not person.password_hash:
        raise failure
    if not isinstance(password, str) or len(password) > MAX_PASSWORD or has_forbidden_chars(password):
        raise failure  # no such password can have been set (hash_password refuses them)
    try:
        _hasher().verify(person.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise failure from None
    if person.role == "village" and node.intake_point not in (person.intake_point,):
        raise PermissionDenied(
            f"村代办员{person.name}属于受理点{person.intake_point}，本机为受理点{node.intake_point}，不能在此登录"
        )
    if node.intake_point != "000":
        _own_point_only(session, person, node, failure)
    return actor_for(person, node)


def _own_point_only(session: Session, person: Staff, node: NodeIdentity, failure: HallError) -> None:
    """On a village laptop only the active staff of its own point log in: one moved to another point (the hall's
    ``staff.changed``, relayed) cannot, whatever their role. The hall's staff directory, which came with the
    laptop's last file, has the last word too: a person it lists as 停用 or elsewhere is refused even before their
    own events reach the laptop (a laptop synced before every staff event was relayed)."""
    from hall.models.sync import SyncStaffDirectory

    listed = session.get(SyncStaffDirectory, person.uid)
    if listed is not None and not listed.active:
        raise failure  # as for any deactivated account
    point = listed.intake_point if listed is not None else person.intake_point
    if person.intake_point != node.intake_point or point != node.intake_point:
        raise PermissionDenied(f"{person.name}（工号 {person.staff_no}）已不属于本受理点（现属受理点{point}），"
                               f"本机为受理点{node.intake_point}，不能在此登录")


def approve(session: Session, actor: Actor, approver_no: str, password: str | None, *, roles: tuple[str, ...],
            what: str) -> Staff:
    """An "approved by" is the approver's own act: the approver acting from their own session, or their password
    typed on the spot and verified here. A staff number alone proves nothing (anyone can type it)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    who = "、".join(ROLE_LABELS.get(r, r) for r in roles)
    approver_no = parse_key(approver_no, "批准人工号", max_len=20)
    person = session.scalars(select(Staff).where(Staff.staff_no == approver_no)).first()
    if person is None:
        raise ValidationError("批准人工号", f"工号“{approver_no}”不存在")
    if person.role not in roles or not person.active:
        raise PermissionDenied(f"{what}须由{who}批准，{person.name}不是{who}")
    if actor.staff_uid is not None and actor.staff_uid == person.uid:
        return person  # the approver's own session: the act is theirs
    refused = PermissionDenied(f"批准人密码不正确：{what}须由{person.name}本人当场输入密码确认")
    if (not isinstance(password, str) or not password or len(password) > MAX_PASSWORD
            or has_forbidden_chars(password) or not person.password_hash):
        raise refused
    try:
        _hasher().verify(person.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise refused from None
    return person


def actor_for(person: Staff, node: NodeIdentity) -> Actor:
    point = person.intake_point if person.role == "village" else node.intake_point
    return Actor(staff_id=person.id, name=person.name, role=person.role, node_id=node.node_id,
                 intake_point=point, window_code=person.window_code, staff_uid=person.uid)


def needs_admin(session: Session) -> bool:
    """First start: no administrator with a password exists yet."""
    count = session.scalar(
        select(func.count()).select_from(Staff).where(Staff.role == "admin", Staff.password_hash != "")
    )
    return not count


def create_first_admin(session: Session, system: Actor, password: str, staff_no: str = "admin",
                       name: str = "系统管理员") -> StaffView:
    if not needs_admin(session):
        raise ConflictError("管理员已存在")
    return add_staff(session, system, StaffForm(staff_no=staff_no, name=name, role="admin", post="系统管理员",
                                                password=password))


def list_staff(session: Session) -> list[StaffView]:
    people = session.scalars(select(Staff).order_by(Staff.window_code, Staff.staff_no)).all()
    names = {p.id: p.name for p in people}
    return [_view(p, names) for p in people]


def view(session: Session, staff_no: str) -> StaffView:
    person = by_number(session, staff_no)
    b_name = session.get(Staff, person.b_post_id).name if person.b_post_id else ""
    return _view(person, {person.b_post_id: b_name} if person.b_post_id else {})


def _view(p: Staff, names: dict[int | None, str] | dict[int, str]) -> StaffView:
    return StaffView(id=p.id, staff_no=p.staff_no, name=p.name, role=p.role, post=p.post, window_code=p.window_code,
                     intake_point=p.intake_point, b_post_id=p.b_post_id,
                     b_post_name=names.get(p.b_post_id, "") if p.b_post_id else "", active=p.active,
                     photo_path=p.photo_path, vanguard=bool(p.vanguard))


def view_by_id(session: Session, staff_id: int | None) -> StaffView:
    person = session.get(Staff, staff_id) if staff_id is not None else None
    if person is None:
        raise NotFound("该工作人员不存在")
    return view(session, person.staff_no)


def by_number(session: Session, staff_no: str) -> Staff:
    staff_no = parse_key(staff_no, "工号", max_len=20)
    person = session.scalars(select(Staff).where(Staff.staff_no == staff_no)).first()
    if person is None:
        raise NotFound(f"工号“{staff_no}”不存在")
    return person


def add_intake_point(session: Session, actor: Actor, code: str, name: str) -> None:
    require_admin(actor, "添加受理点")
    code = parse_key(code, "受理点编码", max_len=3)
    if len(code) != 3 or not (code.isascii() and code.isdigit()):
        raise ValidationError("受理点编码", "应为3位数字（000为中心大厅，001起为村代办点）")
    name = free_text(name, "受理点名称", max_len=80)
    if session.get(IntakePoint, code) is not None:
        raise ConflictError(f"受理点“{code}”已存在")
    ledger.append(session, actor, "intake_point.added", {"code": code, "name": name})


@ledger.projector("intake_point.added")
def _project_point(session: Session, ev: Event, p: dict[str, Any]) -> None:
    session.add(IntakePoint(code=p["code"], name=p["name"], active=True))
    session.flush()


def intake_points(session: Session) -> list[IntakePoint]:
    return list(session.scalars(select(IntakePoint).order_by(IntakePoint.code)))



RESUME_LIMIT = 60  # 简历 on a badge: three short lines under the name (hall/print/notices.py)


def set_profile(session: Session, actor: Actor, staff_no: str, *, photo: bytes | str | None = "",
                resume: str | None = None) -> StaffView:
    """The badge board's photo and short résumé. ``photo``: a file's bytes (checked and scaled, see
    :mod:`hall.services.people.photos`), ``None`` to remove it, ``""`` to leave it; ``resume`` None leaves it.
    One ``staff.changed`` event naming only what changed."""
    from hall.services.people import photos

    require_admin(actor, "修改工作人员照片和简历")
    person = by_number(session, staff_no)
    changed: dict[str, Any] = {}
    if isinstance(photo, bytes):
        stored = photos.prepare_photo(photo)
        if stored != person.photo:
            changed["photo"] = stored
    elif photo is None and person.photo:
        changed["photo"] = ""
    if resume is not None:
        text = free_text(resume, "简历", max_len=RESUME_LIMIT, multiline=True, required=False)
        if find_personal_identifiers(text):  # it is printed on a public board: no ID number, phone or card number
            raise ValidationError("简历", "会公开张贴，不能包含身份证号、电话或银行卡号")
        if text != person.resume:
            changed["resume"] = text
    if changed:
        ledger.append(session, actor, "staff.changed", {"staff_uid": person.uid, "values": changed})
    return view(session, person.staff_no)


def profile(session: Session, staff_no: str) -> tuple[str, str]:
    """(photo as stored — base64 JPEG or "" —, résumé) of one person, for the edit dialog."""
    person = by_number(session, staff_no)
    return person.photo, person.resume


def update_intake_point(session: Session, actor: Actor, code: str, name: str, active: bool) -> None:
    """Rename a village proxy point, or disable one that closed (its tickets keep its code) and enable it again.
    The hall itself (000) is never disabled, nor a point where active staff still work."""
    require_admin(actor, "修改受理点")
    code = parse_key(code, "受理点编码", max_len=3)
    point = session.get(IntakePoint, code)
    if point is None:
        raise NotFound(f"受理点“{code}”不存在")
    name = free_text(name, "受理点名称", max_len=80)
    if not active and point.active:
        if code == "000":
            raise ConflictError("中心大厅（000）不能停用")
        working = session.scalar(select(func.count()).select_from(Staff).where(
            Staff.intake_point == code, Staff.active)) or 0
        if working:
            raise ConflictError(f"受理点“{code}”还有 {working} 名在岗人员：请先在“工作人员”中调整或停用，再停用受理点")
    values = {k: v for k, v in (("name", name), ("active", bool(active))) if getattr(point, k) != v}
    if values:
        ledger.append(session, actor, "intake_point.changed", {"code": code, "values": values})


@ledger.projector("intake_point.changed")
def _project_point_changed(session: Session, ev: Event, p: dict[str, Any]) -> None:
    point = session.get_one(IntakePoint, p["code"])
    for key, value in p["values"].items():
        setattr(point, key, value)
