"""Database passwords never reach a log line or the screen: masked in any text, in any address form."""

from __future__ import annotations

import logging
import string

from hypothesis import given
from hypothesis import strategies as st

from hall.redact import RedactingFilter, mask_secrets
from hall.services.storage import dburl

PASSWORD = st.text(alphabet=string.ascii_letters + string.digits + "!#$%^&*()-_+=[]{};,.<>?~@:/", min_size=6,
                   max_size=24).filter(lambda p: p.strip() == p)


@given(PASSWORD)
def test_any_password_in_an_address_is_masked_in_any_text(password):
    from urllib.parse import quote

    for url, secret in ((f"postgresql://hall:{password}@192.168.1.10/hall", password),  # as typed
                        (f"postgresql+psycopg://hall:{quote(password, safe='')}@server:5433/hall?sslmode=require",
                         quote(password, safe=""))):  # as SQLAlchemy renders it
        text = f"could not open {url} (attempt 2)"
        around = text.replace(secret, "", 1)
        masked = mask_secrets(text)
        assert "hall:***@" in masked
        if secret not in around:  # (a password that is also a word of the message stays visible as that word)
            assert secret not in masked


def test_keyword_and_query_passwords_are_masked():
    assert mask_secrets("host=s password=abc123 user=h") == "host=s password=*** user=h"
    assert mask_secrets("postgresql://h@s/db?password=abc123&x=1") == "postgresql://h@s/db?password=***&x=1"
    assert mask_secrets("no secrets here: a@b.cn") == "no secrets here: a@b.cn"


def test_the_dburl_views_of_an_address():
    url = "postgresql://hall:p%40ss@192.168.1.10:5433/hall"
    assert dburl.masked(url) == "postgresql://hall:***@192.168.1.10:5433/hall"
    assert dburl.server_label(url) == "192.168.1.10:5433/hall"
    assert dburl.server_label("postgresql://hall@server/hall") == "server/hall"
    assert dburl.without_password(url) == "postgresql://hall@192.168.1.10:5433/hall"
    assert dburl.password_of(dburl.with_password("postgresql://hall@s/h", "a@b:c/d")) == "a@b:c/d"


def test_the_log_filter_masks_messages_arguments_and_exceptions(tmp_path):
    logger = logging.getLogger("hall.test.redact")
    handler = logging.FileHandler(tmp_path / "x.log", encoding="utf-8")
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    try:
        logger.warning("opening %s", "postgresql://hall:TopSecret1@s/h")
        try:
            raise RuntimeError("failed for postgresql://hall:TopSecret2@s/h")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
        handler.close()
    text = (tmp_path / "x.log").read_text(encoding="utf-8")
    assert "opening postgresql://hall:***@s/h" in text and "postgresql://hall:***@s/h" in text.split("boom", 1)[1]
    assert "TopSecret" not in text
