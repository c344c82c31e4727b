"""What every fuzzer checks: a parser returns storable values or refuses with a code.

``FUZZ`` is the fixed budget: derandomised (the same examples on every run and
in CI), no per-example deadline. Pure-parser fuzzers use :data:`FUZZ`; the
HTTP fuzzers, whose examples cost a request each, use :data:`FUZZ_HTTP`.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable
from typing import TypeVar

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from kindbot.core.edge import check_text
from kindbot.core.errors import KindbotError

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ_HTTP = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)

T = TypeVar("T")

# Text with the troublemakers over-represented: lone surrogates, NUL and other
# controls, XML's forbidden characters, CDATA terminators, astral characters.
nasty_chars = st.sampled_from(
    ["\ud800", "\udfff", "\x00", "\x01", "\ufffe", "\uffff", "]]>", "<", "&", "😀", "长", ":", "%"]
)
nasty_text = st.lists(st.one_of(st.characters(), nasty_chars), max_size=40).map("".join)


def storable(value: object, where: str = "$") -> None:
    """Every string inside ``value`` (dataclasses, tuples, dicts) is storable text."""
    if isinstance(value, str):
        check_text(value, field=where)
    elif isinstance(value, bytes | int | float | bool) or value is None:
        return
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            storable(getattr(value, field.name), f"{where}.{field.name}")
    elif isinstance(value, dict):
        for key, item in value.items():
            storable(key, f"{where}.<key>")
            storable(item, f"{where}.{key}")
    elif isinstance(value, tuple | list):
        for position, item in enumerate(value):
            storable(item, f"{where}[{position}]")


def parsed_or_refused(parse: Callable[[], T]) -> T | KindbotError:
    """Run ``parse``: a storable value, or a KindbotError with a code and a 4xx status.

    Any other exception propagates and fails the fuzzer.
    """
    try:
        value = parse()
    except KindbotError as exc:
        return refused_with_a_code(exc)
    storable(value)
    return value


def refused_with_a_code(exc: KindbotError) -> KindbotError:
    """``exc`` after checking that it carries a code and maps to a 4xx."""
    assert exc.code, f"error without a code: {exc!r}"
    assert exc.code != "error", f"error with the generic code: {exc!r}"
    assert 400 <= exc.http_status < 500, f"{exc.code} maps to HTTP {exc.http_status}"
    return exc


def seal_raw(key: bytes, data: bytes) -> str:
    """``data`` (a multiple of 16 bytes) AES-CBC-encrypted as WeChat does, base64 — with
    no padding or framing added, so the decryptor's checks see arbitrary plaintext."""
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode("ascii")
