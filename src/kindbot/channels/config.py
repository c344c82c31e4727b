"""The base of every channel's configuration model.

A channel's configuration is one frozen pydantic model per kind: the bundle's
channel spec extends it (adding ``id`` and ``type``), and the sealed JSON
stored per channel is its ``model_dump_json()``, opened with
``model_validate_json()``. Unknown fields are refused in both places.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from kindbot.core.windows import WindowPolicy

AES_KEY = r"^[A-Za-z0-9]{43}$"


def _without_trailing_slash(value: str) -> str:
    return value.rstrip("/")


ApiBase = Annotated[
    str,
    Field(pattern=r"^https?://", max_length=500),
    AfterValidator(_without_trailing_slash),
]
"""A platform API's base URL, kept without a trailing slash."""


class ChannelConfig(BaseModel):
    """One channel's settings (stored sealed; secrets included).

    Each kind says which service window applies to a contact and which
    welcome it sends when someone follows; nothing outside the channel's
    own module needs to know its fields for that.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @abstractmethod
    def window(self, contact_external_id: str) -> WindowPolicy | None:
        """The service window for this contact (None: none applies)."""

    @abstractmethod
    def welcome_text(self) -> str | None:
        """The welcome the pipeline proposes when someone follows the channel (None: none)."""

    def configured_urls(self) -> dict[str, str]:
        """The URLs this configuration sets that kindbot will call, by field name (the
        bundle's address policy checks them; a platform's default API is not listed)."""
        return {}

    def for_tenant(self, tenant_name: str) -> Self:
        """The configuration as stored for a tenant called ``tenant_name`` (fills defaults
        that depend on the tenant; most kinds have none)."""
        return self
