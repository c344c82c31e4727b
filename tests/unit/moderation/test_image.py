"""QR codes in outbound pictures are diversion candidates."""

from __future__ import annotations

import io

import segno
from PIL import Image

from kindbot.core.screening import ContentCategory, ContentContext, Direction, ScreeningLevel
from kindbot.moderation.image import qr_payloads, screen_image

PROACTIVE = ContentContext(Direction.OUTBOUND, proactive=True)


def qr_png(payload: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(payload, error="m").save(buffer, kind="png", scale=5, border=4)
    return buffer.getvalue()


def plain_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_qr_code_is_flagged_in_a_reply_and_blocked_when_proactive() -> None:
    data = qr_png("https://u.wechat.com/EExample")
    assert qr_payloads(data) == ["https://u.wechat.com/EExample"]
    reply = screen_image(data)
    assert reply.level is ScreeningLevel.FLAG
    assert reply.categories == (ContentCategory.DIVERSION,)
    assert reply.matches[0].rule == "qr_code"
    assert screen_image(data, PROACTIVE).level is ScreeningLevel.BLOCK


def test_the_payload_text_is_screened_too() -> None:
    verdict = screen_image(qr_png("加我微信 kb_shop_01"))
    assert verdict.level is ScreeningLevel.BLOCK
    assert {m.rule for m in verdict.matches} >= {"qr_code", "contact_id"}


def test_pictures_without_codes_and_non_pictures_are_ok() -> None:
    assert screen_image(plain_png()).level is ScreeningLevel.OK
    assert screen_image(b"").level is ScreeningLevel.OK
    assert screen_image(b"\x89PNG\r\n\x1a\nnot really").level is ScreeningLevel.OK
    assert screen_image(qr_png("x")[:60]).level is ScreeningLevel.OK
