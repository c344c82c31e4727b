"""``kindbot wechat-sim``: the local WeChat simulator, and a terminal that plays a WeChat user.

``serve`` runs the simulated WeChat server API on its own. ``chat`` plays a
follower of an Official Account channel: each line becomes a signed (and, in
safe mode, encrypted) message push to kindbot's callback, exactly as WeChat
would send it; the passive reply, or the customer-service message that
follows a ``success``, is printed as the bot's answer.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from kindbot.cli.common import fail, open_app, out, run
from kindbot.core.errors import KindbotError

if TYPE_CHECKING:
    import httpx

    from kindbot.channels.wechat_oa.config import OAChannelConfig

app = typer.Typer(
    rich_markup_mode=None,
    help="The local WeChat simulator (no real account needed).",
    no_args_is_help=True,
)

WAIT_FOR_API_REPLY_S = 10.0
GH_ID = "gh_simulated0001"


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8900,
    oa: Annotated[
        list[str] | None, typer.Option(help="Register an Official Account as APPID:SECRET.")
    ] = None,
) -> None:
    """Serve the simulated WeChat/WeCom server API (tokens, custom send, kf) on HOST:PORT."""
    import uvicorn  # the web stack: only for the commands that serve

    from kindbot.testing.wechat_api import WeChatSimulator

    simulator = WeChatSimulator()
    for pair in oa or []:
        app_id, _, secret = pair.partition(":")
        if not app_id or not secret:
            fail(f"--oa takes APPID:SECRET, got {pair!r}")
        simulator.add_oa_app(app_id, secret)
    out.print(f"WeChat simulator on http://{host}:{port} (api_base for bundles)")
    uvicorn.run(simulator.app, host=host, port=port, log_level="warning")


async def _channel_config(channel: str) -> OAChannelConfig:
    from kindbot.channels.wechat_oa.api import KIND as WECHAT_OA
    from kindbot.channels.wechat_oa.config import OAChannelConfig

    async with open_app() as c:
        resolved = await c.directory.by_public_id(channel)
    if resolved.channel.kind != WECHAT_OA:
        raise KindbotError(f"channel {channel!r} is not a WeChat Official Account channel")
    return OAChannelConfig.model_validate_json(resolved.config)


async def _answer_after_success(
    http: httpx.AsyncClient, config: OAChannelConfig, openid: str, seen: int
) -> list[str]:
    """Customer-service messages to ``openid`` beyond the first ``seen``, waiting a while."""
    deadline = time.monotonic() + WAIT_FOR_API_REPLY_S
    while time.monotonic() < deadline:
        url = f"{config.api_base}/sim/oa/sent"
        sent = (await http.get(url, params={"appid": config.app_id})).json()["messages"]
        mine = [m for m in sent if m["touser"] == openid and m["msgtype"] == "text"]
        if len(mine) > seen:
            return [str(m["payload"]["text"]["content"]) for m in mine[seen:]]
        await asyncio.sleep(0.2)
    return []


async def chat_loop(server: str, channel: str, openid: str) -> None:
    """Read lines, push each as ``openid``, print what the account answers."""
    import httpx

    from kindbot.testing.wechat_callbacks import WeChatServerClient

    config = await _channel_config(channel)
    async with httpx.AsyncClient(base_url=server, timeout=10.0) as http:
        wechat = WeChatServerClient(
            http,
            f"/channels/{channel}/callback",
            token=config.token,
            app_id=config.app_id,
            gh_id=GH_ID,
            mode=config.mode,
            encoding_aes_key=config.encoding_aes_key,
        )
        out.print(f"[dim]simulated WeChat user {openid} → {channel}; Ctrl-D to leave[/]")
        seen, counter = 0, 0
        while (line := await asyncio.to_thread(sys.stdin.readline)) != "":
            text = line.strip()
            if not text:
                continue
            counter += 1
            now = int(time.time())
            user_message = {"appid": config.app_id, "openid": openid}
            await http.post(f"{config.api_base}/sim/oa/user_message", json=user_message)
            reply = await wechat.push(wechat.text_xml(openid, text, f"{now}{counter}", now), now)
            if reply.status != 200:
                shown = escape(repr(reply.body[:300]))
                out.print(f"[red]callback answered {reply.status}: {shown}[/]")
            elif reply.content is not None:
                out.print(f"[bold green]公众号>[/] {escape(reply.content)}", highlight=False)
            else:
                for answer in await _answer_after_success(http, config, openid, seen):
                    seen += 1
                    out.print(
                        f"[bold green]公众号 (客服消息)>[/] {escape(answer)}", highlight=False
                    )


@app.command()
def chat(
    channel: Annotated[str, typer.Option(help="Channel id, e.g. teashop.oa.")] = "teashop.oa",
    server: Annotated[str, typer.Option(help="kindbot's base URL.")] = "http://127.0.0.1:8000",
    openid: Annotated[str, typer.Option(help="The simulated follower's OpenID.")] = "o-demo-user",
) -> None:
    """Talk to an Official Account channel as a WeChat user would (through the simulator)."""
    run(chat_loop(server, channel, openid))
