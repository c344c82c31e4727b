"""Exact money: decimal amounts to integer minor units of an ISO 4217 currency, and back.

Pure. An amount is parsed with :class:`decimal.Decimal` (never a float) and
refused when it has more decimal places than the currency has (``19.999``
CNY); it is stored as an integer count of the currency's minor unit (fen for
CNY, so ``19.99`` → ``1999``), which sums exactly on every database.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

DEFAULT_CURRENCY = "CNY"
"""A tenant's currency (tenants have no currency setting yet; kindbot serves Chinese shops)."""

MINOR_DIGITS: dict[str, int] = {
    "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2, "CZK": 2, "DKK": 2,
    "EUR": 2, "GBP": 2, "HKD": 2, "IDR": 2, "ILS": 2, "INR": 2, "JOD": 3, "JPY": 0,
    "KRW": 0, "KWD": 3, "MOP": 2, "MXN": 2, "MYR": 2, "NOK": 2, "NZD": 2, "OMR": 3,
    "PHP": 2, "PLN": 2, "RUB": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TND": 3,
    "TRY": 2, "TWD": 2, "USD": 2, "VND": 0, "ZAR": 2,
}  # fmt: skip
"""Decimal places of each accepted currency (ISO 4217 minor units)."""

MAX_MINOR = 10**15
"""Largest amount in minor units (10 trillion yuan): far inside a 64-bit integer's range."""


_DECIMAL = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
"""A plain decimal number: ASCII digits and one optional point (no exponent, NaN, spaces)."""


class AmountError(ValueError):
    """An amount or currency that cannot be stored exactly; the message says why."""


def check_currency(code: str) -> str:
    """``code`` when it is a currency kindbot knows (upper-case ISO 4217)."""
    if code not in MINOR_DIGITS:
        raise AmountError(f"unknown currency {code!r} (an ISO 4217 code such as CNY, USD, JPY)")
    return code


def to_minor(amount: str | int | Decimal, currency: str) -> int:
    """``amount`` (a decimal string, an integer or a Decimal, at least 0) in minor units.

    Raises :class:`AmountError` for text that is not a plain decimal number, a
    negative amount, more decimal places than ``currency`` has, or an amount
    beyond :data:`MAX_MINOR`.
    """
    digits = MINOR_DIGITS[check_currency(currency)]
    if isinstance(amount, str):
        text = amount.strip()
        if not _DECIMAL.fullmatch(text):
            raise AmountError("not a decimal number (write it like 19.99)")
        value = Decimal(text)
    else:
        value = Decimal(amount)
    if not value.is_finite():
        raise AmountError("not a finite number")
    if value < 0:
        raise AmountError("must be 0 or more (a refund is its own event type)")
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if -exponent > digits:
        raise AmountError(f"more than {digits} decimal places for {currency}")
    minor = int(value.scaleb(digits))
    if minor > MAX_MINOR:
        raise AmountError(f"too large (at most {format_minor(MAX_MINOR, currency)})")
    return minor


def format_minor(minor: int, currency: str) -> str:
    """Minor units as a decimal string with the currency's places (``1999`` → ``"19.99"``)."""
    digits = MINOR_DIGITS[currency]
    return f"{Decimal(minor).scaleb(-digits):.{digits}f}"


def format_fraction(value: Fraction, places: int) -> str:
    """``value`` rounded half away from zero to ``places`` decimals, as a string (``"12.35"``)."""
    exact = abs(value) * 10**places
    whole, rest = divmod(exact.numerator, exact.denominator)
    if 2 * rest >= exact.denominator:
        whole += 1
    sign = "-" if value < 0 and whole else ""
    text = str(whole).rjust(places + 1, "0")
    return f"{sign}{text[:-places]}.{text[-places:]}" if places else f"{sign}{text}"


def round_rate(value: Fraction) -> float:
    """A ratio as a number rounded half away from zero to 4 decimal places."""
    return float(format_fraction(value, 4))
