"""The channel registry: every kind's configuration, window, welcome, adapter and callbacks."""

from __future__ import annotations

import ipaddress
import typing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from tests.conftest import TEST_SECRET_KEY

from kindbot.bootstrap import SystemClock
from kindbot.bundles.apply import apply_bundle, channel_config
from kindbot.bundles.loader import load_bundle
from kindbot.bundles.schema import ChannelSpec, WeChatOASpec
from kindbot.channels.config import ChannelConfig
from kindbot.channels.registry import (
    KINDS,
    AdapterDeps,
    UnknownChannelKindError,
    build_adapters,
    channel_kind,
    open_config,
    window_policy,
)
from kindbot.channels.wechat_oa.config import OAChannelConfig
from kindbot.core.egress import AddressPolicy, IpAddress
from kindbot.core.errors import InputFileError
from kindbot.core.windows import WEBCHAT_WINDOW, WECHAT_WINDOW, WindowPolicy
from kindbot.pipeline.deliver.tokens import AccessTokens
from kindbot.pipeline.live.visitors import VisitorHub
from kindbot.pipeline.receive.rate_limits import DEFAULTS
from kindbot.storage.sealing import SecretBox
from kindbot.storage.sql_store import SqlStore
from kindbot.web.callbacks.routes import RECEIVERS, VERIFIERS

AES = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

TODAYS_JSON = {
    "webhook": (
        '{"secret": "webhook-secret-0123456789", "outgoing_url": "https://example.com/hook",'
        ' "window_hours": 2.0, "window_messages": 3}'
    ),
    "webchat": '{"title": "小店", "greeting": null}',
    "wechat_oa": (
        '{"api_base": "https://api.weixin.qq.com", "app_id": "wx0123456789abcdef",'
        ' "app_secret": "oa-app-secret-0123456789", "encoding_aes_key": null,'
        ' "max_clock_skew": 300, "mode": "plain", "previous_encoding_aes_key": null,'
        ' "reply_budget": 4.0, "token": "oatoken", "welcome": "欢迎关注"}'
    ),
    "wecom": (
        '{"agent_id": 1000002, "api_base": "https://qyapi.weixin.qq.com",'
        ' "corp_id": "ww0123456789abcdef", "encoding_aes_key": "' + AES + '",'
        ' "max_clock_skew": 300, "open_kfid": "wkShop01", "previous_encoding_aes_key": null,'
        ' "secret": "wecom-app-secret-0123456789", "token": "wecomtoken", "welcome": "你好"}'
    ),
    "console": "{}",
}
"""A stored configuration of each kind exactly as the dataclasses' ``to_json`` wrote it."""

EXPECTED_WINDOWS: dict[tuple[str, str], WindowPolicy | None] = {
    ("webhook", "u1"): WindowPolicy(timedelta(hours=2), 3, timedelta(hours=2), 3),
    ("webchat", "visitor"): WEBCHAT_WINDOW,
    ("wechat_oa", "openid-1"): WECHAT_WINDOW,
    ("wecom", "member:zhangsan"): None,
    ("wecom", "wmExternal01"): WECHAT_WINDOW,
    ("console", "console:alice"): None,
}
EXPECTED_WELCOMES = {
    "webhook": None,
    "webchat": None,
    "wechat_oa": "欢迎关注",
    "wecom": None,  # WeCom's welcome goes out with a WelcomeCode, not on a follow
    "console": None,
}


def test_every_kind_has_a_stored_example_and_expectations() -> None:
    """A new kind must come with its stored form, its windows and its welcome here."""
    assert set(TODAYS_JSON) == set(KINDS)
    assert {kind for kind, _ in EXPECTED_WINDOWS} == set(KINDS)
    assert set(EXPECTED_WELCOMES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_configuration_in_todays_format_loads_and_round_trips(kind: str) -> None:
    config = open_config(kind, TODAYS_JSON[kind])
    assert isinstance(config, KINDS[kind].config)
    assert open_config(kind, config.model_dump_json()) == config
    assert config.model_config.get("frozen") is True


@pytest.mark.parametrize(("kind", "contact"), sorted(EXPECTED_WINDOWS))
def test_each_kind_says_its_window(kind: str, contact: str) -> None:
    assert window_policy(kind, contact, TODAYS_JSON[kind]) == EXPECTED_WINDOWS[(kind, contact)]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_says_its_welcome(kind: str) -> None:
    assert open_config(kind, TODAYS_JSON[kind]).welcome_text() == EXPECTED_WELCOMES[kind]


def test_a_webhook_without_a_window_has_none() -> None:
    assert window_policy("webhook", "u1", '{"secret": "webhook-secret-0123456789"}') is None


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_unknown_fields_in_a_stored_configuration_are_refused(kind: str) -> None:
    with pytest.raises(ValidationError, match="extra"):
        open_config(
            kind, TODAYS_JSON[kind][:-1] + (', "x": 1}' if kind != "console" else '"x": 1}')
        )


def test_an_unknown_kind_is_named() -> None:
    with pytest.raises(UnknownChannelKindError, match="line"):
        channel_kind("line")


def _spec_types() -> dict[str, type[ChannelConfig]]:
    union = typing.get_args(ChannelSpec)[0]
    specs: tuple[type[ChannelConfig], ...] = typing.get_args(union)
    return {typing.get_args(s.model_fields["type"].annotation)[0]: s for s in specs}


def test_the_bundle_takes_exactly_the_registry_kinds_and_extends_their_models() -> None:
    specs = _spec_types()
    assert set(specs) == {name for name, kind in KINDS.items() if kind.in_bundles}
    for name, spec in specs.items():
        assert issubclass(spec, KINDS[name].config)
        extra = set(spec.model_fields) - set(KINDS[name].config.model_fields)
        assert extra == {"id", "type"}


def test_the_mode_default_is_the_same_in_the_bundle_and_at_run_time() -> None:
    assert OAChannelConfig.model_fields["mode"].default == "safe"
    assert WeChatOASpec.model_fields["mode"].default == "safe"
    fields = {"app_id": "wx0123456789abcdef", "app_secret": "s" * 16, "token": "tok"}
    with pytest.raises(ValidationError, match="needs encoding_aes_key"):
        OAChannelConfig(**fields)  # type: ignore[arg-type]
    assert OAChannelConfig(**fields, mode="plain").mode == "plain"  # type: ignore[arg-type]


def write(tmp_path: Path, channels: str) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(
        "tenant: {slug: shop, name: 小店, industry: retail}\nchannels:\n" + channels,
        encoding="utf-8",
    )
    return path


def test_a_bundle_reply_budget_below_half_a_second_is_refused(tmp_path: Path) -> None:
    oa = (
        "  - {id: oa, type: wechat_oa, app_id: wx0123456789abcdef,"
        " app_secret: oa-app-secret-0123456789, token: oatoken, mode: plain, reply_budget: 0.2}\n"
    )
    with pytest.raises(InputFileError, match="reply_budget"):
        load_bundle(write(tmp_path, oa))


def test_the_stored_configuration_is_the_kind_model_without_id_and_type(tmp_path: Path) -> None:
    bundle = load_bundle(
        write(
            tmp_path,
            "  - {id: chat, type: webchat}\n"
            "  - {id: oa, type: wechat_oa, app_id: wx0123456789abcdef,"
            f" app_secret: oa-app-secret-0123456789, token: oatoken, encoding_aes_key: {AES},"
            " api_base: 'https://api.example.com/'}\n",
        )
    )
    chat, oa = (open_config(s.type, channel_config(s, "小店")) for s in bundle.channels)
    assert chat.model_dump() == {"title": "小店", "greeting": None}
    assert isinstance(oa, OAChannelConfig)
    assert (oa.mode, oa.api_base) == ("safe", "https://api.example.com")


CHANNELS = (
    "  - {id: chat, type: webchat, title: 小店}\n"
    "  - {id: hook, type: webhook, secret: webhook-secret-0123456789,"
    " outgoing_url: 'https://example.com/hook', window_hours: 2, window_messages: 3}\n"
    "  - {id: oa, type: wechat_oa, app_id: wx0123456789abcdef,"
    " app_secret: oa-app-secret-0123456789, token: oatoken, mode: plain,"
    " api_base: 'https://api.weixin.qq.com', welcome: 欢迎关注}\n"
    "  - {id: wecom, type: wecom, corp_id: ww0123456789abcdef, agent_id: 1000002,"
    " secret: wecom-app-secret-0123456789, token: wecomtoken,"
    f" encoding_aes_key: {AES}, open_kfid: wkShop01, welcome: 你好}}\n"
)


async def test_channels_stored_in_todays_format_are_unchanged_by_the_same_bundle(
    store: SqlStore, tmp_path: Path
) -> None:
    """Upgrading does not rewrite stored channels whose settings did not change."""
    box = SecretBox(TEST_SECRET_KEY.encode("ascii"))
    path = write(tmp_path, CHANNELS)
    policy = AddressPolicy(allow_private=True)
    first = await apply_bundle(store, box, path, NOW, addresses=policy, resolve=_public)
    assert set(first.channels_created) == {"chat", "hook", "oa", "wecom", "console"}
    async with store.transaction() as tx:
        for local_id, kind in (("chat", "webchat"), ("hook", "webhook"), ("oa", "wechat_oa")):
            channel = await tx.channels.get_by_public_id(f"shop.{local_id}")
            assert channel is not None
            await tx.channels.upsert(
                tenant_id=channel.tenant_id,
                public_id=channel.public_id,
                local_id=local_id,
                kind=kind,
                config_sealed=box.seal(TODAYS_JSON[kind]),
            )
    again = await apply_bundle(store, box, path, NOW, addresses=policy, resolve=_public)
    assert set(again.channels_unchanged) == {"chat", "hook", "oa", "wecom", "console"}


async def _public(host: str, port: int) -> list[IpAddress]:
    return [ipaddress.ip_address("93.184.216.34")]


async def test_every_kind_gets_an_adapter_of_its_own_kind(tmp_path: Path) -> None:
    store = SqlStore.for_url(f"sqlite+aiosqlite:///{tmp_path / 'adapters.db'}")
    clock = SystemClock()
    async with httpx.AsyncClient() as http:
        deps = AdapterDeps(
            http=http, tokens=AccessTokens(store, clock), clock=clock, visitors=VisitorHub()
        )
        adapters = build_adapters(deps)
    await store.close()
    assert set(adapters) == set(KINDS)
    assert all(adapter.kind == name for name, adapter in adapters.items())


def test_callbacks_count_against_limits_that_exist() -> None:
    limits = {kind.callback_limit for kind in KINDS.values()} - {None}
    assert limits == {"webhook", "wechat"}
    assert limits <= set(DEFAULTS)


def test_every_kind_that_takes_callbacks_has_a_handler() -> None:
    takes_callbacks = {name for name, kind in KINDS.items() if kind.callback_limit}
    assert set(RECEIVERS) == takes_callbacks
    assert set(VERIFIERS) == {name for name, kind in KINDS.items() if kind.verifies_url}
    assert set(VERIFIERS) <= takes_callbacks
