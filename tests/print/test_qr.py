from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.graphics.barcode import qrencoder

from hall.print.qr import FastQrCode, penalty


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="0123456789-ABCXYZabc中文号", min_size=1, max_size=90), st.sampled_from("LMQH"))
def test_penalty_is_reportlabs_for_every_mask(payload, level):
    q = qrencoder.QRCode(None, getattr(qrencoder.QRErrorCorrectLevel, level))
    q.addData(payload)
    q.version = q.calculate_version()
    for mask in range(8):
        q.makeImpl(True, mask)
        assert penalty(q.modules) == qrencoder.QRUtil.getLostPoint(q)
    fast = FastQrCode(payload, qrLevel=level).qr
    fast.make()
    q.make()
    assert fast.modules == q.modules  # same mask chosen, same symbol


def test_fast_code_chooses_reportlabs_mask_and_symbol():
    number = "320581101-000-20260305-0012"
    ours = FastQrCode(number, qrLevel="M").qr
    ours.make()
    theirs = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    theirs.addData(number)
    theirs.make()
    assert ours.modules == theirs.modules
