"""The floor for bench/wechat_oa_throughput.py: verify, decrypt, parse, encrypt a fixed reply.

Usage: wechat_floor.py PORT TOKEN ENCODING_AES_KEY APP_ID (serves until terminated).
"""

from __future__ import annotations

import sys
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from kindbot.channels.wechat_oa import codec


def build(token: str, aes_key: str, app_id: str) -> Starlette:
    config = codec.OAConfig(
        token=token,
        app_id=app_id,
        encoding_aes_key=aes_key,
        previous_encoding_aes_key=None,
        mode="safe",
    )

    async def callback(request: Request) -> Response:
        body = await request.body()
        opened = codec.open_callback(
            config,
            dict(request.query_params),
            body,
            now=int(time.time()),
        )
        message = opened.message
        xml = codec.render_text_reply(message.from_user, message.to_user, "fixed reply", 0)
        assert opened.key is not None
        sealed = codec.seal_reply(
            xml, config=config, key=opened.key, timestamp=opened.timestamp, nonce=opened.nonce
        )
        return Response(sealed, media_type="application/xml")

    async def health(_request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/callback", callback, methods=["POST"]), Route("/", health)])


if __name__ == "__main__":
    port, token, aes_key, app_id = sys.argv[1:5]
    uvicorn.run(
        build(token, aes_key, app_id), host="127.0.0.1", port=int(port), log_level="warning"
    )
