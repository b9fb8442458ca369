"""Database addresses as a person types, sees and saves them: never with the password in view.

A hall server's address is ``postgresql://USER:PASSWORD@SERVER[:PORT]/DATABASE``. What is shown or logged is
:func:`masked` (``postgresql://hall:***@server/hall``), what names the server in a message is :func:`server_label`
(``server/hall``), and what is saved in a counter's settings is :func:`without_password` — the password is asked
for at login (:func:`with_password`) and only ever kept in the OS keyring.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from hall.errors import ValidationError
from hall.redact import mask_secrets


def parse(url: str) -> URL:
    """A PostgreSQL address, checked; a clear message naming the field otherwise (never echoing a password)."""
    text = url.strip()
    if text.startswith("postgres://"):
        text = "postgresql://" + text.split("://", 1)[1]
    try:
        parsed = make_url(text)
    except (ArgumentError, ValueError):
        raise ValidationError("数据库地址", f"格式不对：{mask_secrets(text)}（应为 postgresql://用户@服务器/数据库；"
                                          "密码中的 @ / : 等字符要写成 %40 %2F %3A）") from None
    if parsed.get_backend_name() != "postgresql":
        raise ValidationError("数据库地址", "应以 postgresql:// 开头（大厅服务器的 PostgreSQL）")
    if not parsed.host:
        raise ValidationError("数据库地址", "缺少服务器名或 IP 地址（postgresql://用户@服务器/数据库）")
    if not parsed.database:
        raise ValidationError("数据库地址", "缺少数据库名（postgresql://用户@服务器/数据库）")
    if not parsed.username:
        raise ValidationError("数据库地址", "缺少用户名（postgresql://用户@服务器/数据库）")
    return parsed


def _typed(parsed: URL) -> URL:
    return parsed.set(drivername="postgresql")  # shown as typed, not with SQLAlchemy's driver suffix


def masked(url: str) -> str:
    """For the screen and the log: the password (if any) as ``***``."""
    try:
        parsed = make_url(url.strip())
    except (ArgumentError, ValueError):
        return mask_secrets(url)
    if parsed.get_backend_name() != "postgresql":
        return mask_secrets(url)
    return mask_secrets(_typed(parsed).render_as_string(hide_password=True))


def server_label(url: str) -> str:
    """The server and database an address points at, for a message: ``server:5433/hall`` (port if not 5432)."""
    try:
        parsed = make_url(url.strip())
    except (ArgumentError, ValueError):
        return masked(url)
    if parsed.get_backend_name() != "postgresql":
        return str(parsed.database or "")
    port = f":{parsed.port}" if parsed.port and parsed.port != 5432 else ""
    return f"{parsed.host or 'localhost'}{port}/{parsed.database or ''}"


def has_password(url: str) -> bool:
    try:
        return bool(make_url(url.strip()).password)
    except (ArgumentError, ValueError):
        return False


def without_password(url: str) -> str:
    """The address to save: everything but the password."""
    p = parse(url)
    query = {k: v for k, v in p.query.items() if k.lower() != "password"}
    return URL.create("postgresql", p.username, None, p.host, p.port, p.database, query).render_as_string(
        hide_password=False)


def with_password(url: str, password: str) -> str:
    """The address to connect with: the saved one and the password typed at login."""
    p = parse(without_password(url))
    return URL.create("postgresql", p.username, password or None, p.host, p.port, p.database, p.query
                      ).render_as_string(hide_password=False)


def password_of(url: str) -> str:
    try:
        return str(make_url(url.strip()).password or "")
    except (ArgumentError, ValueError):
        return ""
