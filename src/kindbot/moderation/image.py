"""Images: QR codes in outbound pictures are traffic-diversion candidates.

:func:`screen_image` decodes the picture (Pillow) and looks for QR codes
(zxing-cpp). A QR code is a ``diversion`` finding (rule ``qr_code``; the
term is the decoded payload, offsets 0–0 as there is no text): flagged in a
reply, blocked in proactive and group messages — like any diversion that is
not an explicit solicitation. A payload that is itself text is screened too
(a QR code spelling ``加微信 abc123``). Never raises: bytes that are not a
readable picture, or are too large to decode, give ``ok``.
"""

from __future__ import annotations

import io
import warnings

import zxingcpp
from PIL import Image, UnidentifiedImageError

from kindbot.core.screening import (
    ContentCategory,
    ContentContext,
    Direction,
    ScreeningLevel,
    ScreeningMatch,
    ScreeningVerdict,
)
from kindbot.moderation.findings import Finding
from kindbot.moderation.screener import LexiconScreener, default_screener
from kindbot.moderation.verdict import decide

MAX_PIXELS = 40_000_000
"""Pictures larger than this are not decoded (decompression bombs)."""

MAX_BYTES = 20 * 1024 * 1024

_QR_FORMATS = zxingcpp.BarcodeFormats(
    [
        zxingcpp.BarcodeFormat.QRCode,
        zxingcpp.BarcodeFormat.MicroQRCode,
        zxingcpp.BarcodeFormat.RMQRCode,
    ]
)
_REPLY = ContentContext(direction=Direction.OUTBOUND)


def qr_payloads(data: bytes) -> list[str]:
    """The payloads of the QR codes in the picture ``data`` (empty when none or unreadable)."""
    if not data or len(data) > MAX_BYTES:
        return []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    return []
                grey = image.convert("L")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return []
    return [result.text for result in zxingcpp.read_barcodes(grey, formats=_QR_FORMATS)]


def screen_image(
    data: bytes,
    context: ContentContext = _REPLY,
    screener: LexiconScreener | None = None,
) -> ScreeningVerdict:
    """The verdict on a picture: QR codes are diversion candidates (see module doc)."""
    findings: list[Finding] = []
    for payload in qr_payloads(data):
        match = ScreeningMatch(ContentCategory.DIVERSION, "qr_code", payload[:200], 0, 0, "")
        findings.append(Finding(match, ScreeningLevel.FLAG))
        text_findings = (screener or default_screener()).findings(payload, context.tenant_id)
        findings += [
            Finding(
                ScreeningMatch(f.match.category, f.match.rule, f.match.term, 0, 0, ""),
                f.level,
                f.inbound,
            )
            for f in text_findings
        ]
    return decide(findings, context)
