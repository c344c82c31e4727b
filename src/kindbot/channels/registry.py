"""Every channel kind in one table: adding a channel means adding one entry here.

A :class:`ChannelKind` names the kind's configuration model (which also says
the kind's service window and follow welcome, see
:class:`kindbot.channels.config.ChannelConfig`), how its sending adapter is
built from the container's shared dependencies, and how its platform
callbacks are treated. Nothing else in kindbot switches on a channel's kind:
the bundle schema, the container, the rate limits, the admission's window
and the web layer's callback table all read this registry (the web layer
keys its callback handlers by these kinds; a test checks that every kind that
takes callbacks has one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from kindbot.channels import console, webchat, webhook
from kindbot.channels.config import ChannelConfig
from kindbot.channels.console import ConsoleAdapter, ConsoleConfig
from kindbot.channels.webchat import VisitorPush, WebchatAdapter, WebchatConfig
from kindbot.channels.webhook import WebhookAdapter, WebhookConfig
from kindbot.channels.wechat_oa.adapter import OAAdapter
from kindbot.channels.wechat_oa.api import KIND as WECHAT_OA
from kindbot.channels.wechat_oa.config import OAChannelConfig
from kindbot.channels.wecom.adapter import WeComAdapter
from kindbot.channels.wecom.api import KIND as WECOM
from kindbot.channels.wecom.config import WeComChannelConfig
from kindbot.core.errors import KindbotError
from kindbot.core.ports.seams import ChannelAdapter, Clock, TokenSource
from kindbot.core.windows import WindowPolicy

__all__ = [
    "KINDS",
    "AdapterDeps",
    "ChannelKind",
    "UnknownChannelKindError",
    "build_adapters",
    "channel_kind",
    "open_config",
    "window_policy",
]


@dataclass(frozen=True, slots=True)
class AdapterDeps:
    """What the container shares with every channel adapter.

    ``http`` is the container's client for tenant-configured URLs (its
    transport enforces the address policy); ``tokens`` caches platform access
    tokens across processes; ``visitors`` pushes frames to open web chat sockets.
    """

    http: httpx.AsyncClient
    tokens: TokenSource
    clock: Clock
    visitors: VisitorPush


@dataclass(frozen=True, slots=True)
class ChannelKind:
    """One kind of channel.

    ``config``: its configuration model (bundle spec base and sealed JSON).
    ``adapter``: builds its sending adapter. ``callback_limit``: the rate
    limit (:data:`kindbot.pipeline.receive.rate_limits.DEFAULTS`) its
    platform callbacks count against, None when the kind takes no callbacks
    at ``/channels/{id}/callback``. ``verifies_url``: its platform verifies
    the callback URL with a GET. ``in_bundles``: declared in bundles (the
    console is created by ``kindbot apply`` for every tenant instead).
    """

    name: str
    config: type[ChannelConfig]
    adapter: Callable[[AdapterDeps], ChannelAdapter]
    callback_limit: str | None = None
    verifies_url: bool = False
    in_bundles: bool = True


KINDS: Mapping[str, ChannelKind] = {
    kind.name: kind
    for kind in (
        ChannelKind(
            name=WECHAT_OA,
            config=OAChannelConfig,
            adapter=lambda deps: OAAdapter(deps.http, deps.tokens, deps.clock),
            callback_limit="wechat",
            verifies_url=True,
        ),
        ChannelKind(
            name=WECOM,
            config=WeComChannelConfig,
            adapter=lambda deps: WeComAdapter(deps.http, deps.tokens, deps.clock),
            callback_limit="wechat",
            verifies_url=True,
        ),
        ChannelKind(
            name=webhook.KIND,
            config=WebhookConfig,
            adapter=lambda deps: WebhookAdapter(deps.http),
            callback_limit="webhook",
        ),
        ChannelKind(
            name=webchat.KIND,
            config=WebchatConfig,
            adapter=lambda deps: WebchatAdapter(deps.visitors),
        ),
        ChannelKind(
            name=console.KIND,
            config=ConsoleConfig,
            adapter=lambda deps: ConsoleAdapter(),
            in_bundles=False,
        ),
    )
}
"""Every channel kind kindbot serves, by name."""


class UnknownChannelKindError(KindbotError):
    """A stored channel names a kind this version does not serve (the database
    and the code disagree: a server error, never caused by a request)."""

    code = "unknown_channel_kind"
    http_status = 500


def channel_kind(name: str) -> ChannelKind:
    """The kind called ``name``, or :class:`UnknownChannelKindError`."""
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownChannelKindError(f"no channel kind {name!r}") from None


def open_config(kind: str, config_json: str) -> ChannelConfig:
    """A stored configuration, validated by its kind's model (pydantic's
    ``ValidationError`` when it does not fit)."""
    return channel_kind(kind).config.model_validate_json(config_json)


def window_policy(kind: str, contact_external_id: str, config_json: str) -> WindowPolicy | None:
    """The service window of a channel of ``kind`` for this contact (None: none applies)."""
    return open_config(kind, config_json).window(contact_external_id)


def build_adapters(deps: AdapterDeps) -> dict[str, ChannelAdapter]:
    """One sending adapter per kind, keyed by kind (the outbox worker's table)."""
    return {name: kind.adapter(deps) for name, kind in KINDS.items()}
