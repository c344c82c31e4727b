"""The ``wecom`` bundle channel: validation with line numbers, and the stored config."""

from __future__ import annotations

from pathlib import Path

import pytest

from kindbot.bundles.apply import channel_config
from kindbot.bundles.loader import load_bundle
from kindbot.bundles.schema import WeComSpec
from kindbot.channels.wecom.config import WeComChannelConfig
from kindbot.core.errors import InputFileError

KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CHANNEL = (
    "  - id: wecom\n"
    "    type: wecom\n"
    "    corp_id: ww0123456789abcdef\n"
    "    agent_id: 1000002\n"
    "    secret: wecom-app-secret-0123456789\n"
    "    token: wecomtoken\n"
    "    encoding_aes_key: {key}\n"
    "    open_kfid: wkShop01\n"
)


def write(tmp_path: Path, key: str = KEY, extra: str = "") -> Path:
    path = tmp_path / "bundle.yaml"
    path.write_text(
        "tenant: {slug: shop, name: Shop, industry: retail}\nchannels:\n"
        + CHANNEL.format(key=key)
        + extra,
        encoding="utf-8",
    )
    return path


def test_a_wecom_channel_is_stored_with_its_settings(tmp_path: Path) -> None:
    bundle = load_bundle(write(tmp_path, extra="    welcome: 欢迎\n"))
    spec = bundle.channels[0]
    assert isinstance(spec, WeComSpec)
    config = WeComChannelConfig.model_validate_json(channel_config(spec, "Shop"))
    assert (config.corp_id, config.agent_id, config.open_kfid) == (
        "ww0123456789abcdef",
        1000002,
        "wkShop01",
    )
    assert (config.api_base, config.welcome) == ("https://qyapi.weixin.qq.com", "欢迎")
    assert config.api().token_key == "wecom:ww0123456789abcdef:1000002"
    assert config.codec().keys()  # the key decodes


@pytest.mark.parametrize(
    ("key", "extra", "location"),
    [
        (KEY[:42], "", "channels[0].encoding_aes_key"),
        (KEY, "    previous_encoding_aes_key: short\n", "channels[0].previous_encoding_aes_key"),
        (KEY, "    agent_id_typo: 1\n", "channels[0].agent_id_typo"),
        (KEY, f"    previous_encoding_aes_key: {KEY}\n", "channels[0]"),
    ],
)
def test_bad_settings_are_named_with_their_line(
    tmp_path: Path, key: str, extra: str, location: str
) -> None:
    with pytest.raises(InputFileError) as caught:
        load_bundle(write(tmp_path, key, extra))
    problem = caught.value.problems[0]
    assert problem.location == location
    assert problem.row is not None
