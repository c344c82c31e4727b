"""Safe parsing and injection-proof rendering of WeChat's flat XML.

Parsing goes through :mod:`defusedxml` with DTDs, entity declarations and
external references forbidden, after a 64 KiB size check, into a tree builder
that refuses more than :data:`MAX_DEPTH` levels or :data:`MAX_ELEMENTS`
elements as they open — so no deep document is ever built or walked
recursively. Rendering wraps
every string in CDATA via :func:`cdata`, which splits ``]]>`` and drops the
characters XML 1.0 forbids, so user or LLM text can never close the section
or make the document unparseable.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from kindbot.core.errors import BadRequestError

MAX_BODY = 64 * 1024
MAX_DEPTH = 8
"""Deepest element nesting accepted (WeChat's deepest, ``SendPicsInfo/PicList/item/…``, is 5)."""
MAX_ELEMENTS = 1024
ROOT_TAG = "xml"

# Everything outside XML 1.0's Char production: #x9 | #xA | #xD | [#x20-#xD7FF]
# | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
_FORBIDDEN_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


class WeChatXmlError(BadRequestError):
    """A body is not acceptable WeChat XML (HTTP 400).

    Codes: ``invalid_xml`` (malformed, not UTF-8 decodable, or the root is not
    ``<xml>``), ``forbidden_xml`` (DTD, entity declaration or external
    reference), ``xml_too_large`` (over :data:`MAX_BODY` bytes),
    ``xml_too_deep`` (over :data:`MAX_DEPTH` levels or :data:`MAX_ELEMENTS` elements),
    ``missing_field`` and ``invalid_field`` (raised by the message parsers).
    """

    code = "invalid_xml"
    http_status = 400


class _BoundedTreeBuilder(ET.TreeBuilder):
    """A tree builder that stops the parse as soon as the document is too deep or too big."""

    def __init__(self) -> None:
        super().__init__()
        self._depth = 0
        self._elements = 0

    def start(self, tag: str, attrs: dict[str, str], /) -> ET.Element:
        self._depth += 1
        self._elements += 1
        if self._depth > MAX_DEPTH or self._elements > MAX_ELEMENTS:
            raise WeChatXmlError(
                f"XML nests deeper than {MAX_DEPTH} levels or has more than "
                f"{MAX_ELEMENTS} elements",
                code="xml_too_deep",
            )
        return super().start(tag, attrs)

    def end(self, tag: str, /) -> ET.Element:
        self._depth -= 1
        return super().end(tag)


def _parse(body: bytes) -> ET.Element:
    parser = DefusedXMLParser(
        target=_BoundedTreeBuilder(), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    parser.feed(body)
    root: ET.Element = parser.close()
    return root


def _inner_xml(element: ET.Element) -> str:
    """The element's content: its text, or its children re-serialised as XML."""
    if len(element) == 0:
        return element.text or ""
    children = "".join(ET.tostring(child, encoding="unicode") for child in element)
    return (element.text or "") + children


def parse_fields(body: bytes) -> dict[str, str]:
    """The root ``<xml>`` element's direct children as ``{tag: content}``.

    Leaf content is the text exactly as the parser yields it (CDATA unwrapped,
    entities resolved, whitespace kept). A child with nested elements
    (``ScanCodeInfo``, ``SendPicsInfo``, ``SendLocationInfo`` …) maps to its
    inner XML, re-serialised, so it can be parsed again by wrapping it in
    ``<xml>…</xml>``. When a tag repeats at the top level, the first wins.
    Raises :class:`WeChatXmlError`.
    """
    if len(body) > MAX_BODY:
        raise WeChatXmlError(
            f"XML body of {len(body)} bytes exceeds {MAX_BODY}", code="xml_too_large"
        )
    try:
        root = _parse(body)
    except DefusedXmlException as exc:
        raise WeChatXmlError(
            f"XML with DTDs or entities is refused: {type(exc).__name__}", code="forbidden_xml"
        ) from exc
    except (ET.ParseError, ValueError) as exc:
        raise WeChatXmlError(f"body is not well-formed XML: {exc}") from exc
    if root.tag != ROOT_TAG:
        raise WeChatXmlError(f"root element is <{root.tag}>, expected <{ROOT_TAG}>")
    fields: dict[str, str] = {}
    for child in root:
        if isinstance(child.tag, str) and child.tag not in fields:
            fields[child.tag] = _inner_xml(child)
    return fields


def strip_invalid_chars(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (controls other than
    tab, newline and carriage return; lone surrogates; U+FFFE and U+FFFF)."""
    return _FORBIDDEN_CHARS.sub("", text)


def cdata(text: str) -> str:
    """``text`` as a CDATA section that always parses back to the same text.

    Each ``]]>`` becomes ``]]]]><![CDATA[>`` (the section is closed after
    ``]]`` and reopened before ``>``); forbidden characters are dropped first.
    """
    safe = strip_invalid_chars(text).replace("]]>", "]]]]><![CDATA[>")
    return f"<![CDATA[{safe}]]>"


def render_element(name: str, value: str | int) -> str:
    """``<name>value</name>``: strings as :func:`cdata`, integers bare.

    ``name`` must be a plain XML name (ValueError otherwise); ``bool`` is
    refused (TypeError) rather than rendered as ``True``.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a plain XML element name: {name!r}")
    if isinstance(value, bool):
        raise TypeError(f"element {name}: bool is not a valid value")
    body = str(value) if isinstance(value, int) else cdata(value)
    return f"<{name}>{body}</{name}>"


def render_fields(root_items: Sequence[tuple[str, str | int]]) -> str:
    """An ``<xml>`` document with one child per item, in order (see :func:`render_element`)."""
    return f"<{ROOT_TAG}>" + "".join(render_element(n, v) for n, v in root_items) + f"</{ROOT_TAG}>"


def render_envelope(encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> str:
    """The encrypted-reply envelope (``Encrypt``, ``MsgSignature``, ``TimeStamp``, ``Nonce``).

    ``timestamp`` must be ASCII digits (ValueError otherwise); it is written
    verbatim, so it is exactly the string that was signed.
    """
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise ValueError(f"timestamp must be decimal digits, got {timestamp!r}")
    return (
        f"<{ROOT_TAG}>{render_element('Encrypt', encrypt)}"
        f"{render_element('MsgSignature', msg_signature)}"
        f"<TimeStamp>{timestamp}</TimeStamp>{render_element('Nonce', nonce)}</{ROOT_TAG}>"
    )


DESCRIPTION_LIMIT = 120


def describe(text: str) -> str:
    """A one-line description of a non-text message for history: whitespace folded, clipped."""
    text = " ".join(text.split())
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"
