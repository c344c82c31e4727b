"""Later replies on a webhook channel are POSTed, signed, to its outgoing_url, with retries."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.support.clock import FakeClock
from tests.support.live import serve_app
from tests.support.tenants import apply_approved

from kindbot.bootstrap import Container
from kindbot.channels.webhook import SIGNATURE_HEADER, parse, sign, verify_signature
from kindbot.core.records.outbox import OutboxStatus

SECRET = "receiver-secret-0123456789"


class Receiver:
    """A real HTTP endpoint that fails the first ``failures`` calls, then accepts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[bytes, str | None]] = []

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        self.received.append((body, request.headers.get(SIGNATURE_HEADER)))
        if len(self.received) <= self.failures:
            return Response(status_code=503)
        return Response(status_code=204)


@asynccontextmanager
async def serve(receiver: Receiver) -> AsyncIterator[str]:
    app = Starlette(routes=[Route("/hook", receiver.endpoint, methods=["POST"])])
    async with serve_app(app) as base:
        yield f"{base}/hook"


async def apply_shop(container: Container, tmp_path: Path, url: str, clock: FakeClock) -> None:
    (tmp_path / "faq.csv").write_text("question,answer\n运费怎么算,满99元包邮\n", encoding="utf-8")
    (tmp_path / "bundle.yaml").write_text(
        "tenant: {slug: hookshop, name: Hook Shop, industry: retail}\n"
        "channels:\n"
        f"  - {{id: api, type: webhook, secret: {SECRET}, outgoing_url: '{url}'}}\n"
        "knowledge: [{file: faq.csv}]\n",
        encoding="utf-8",
    )
    await apply_approved(container, tmp_path / "bundle.yaml", clock.now())


async def test_async_reply_is_signed_delivered_and_retried(
    container: Container, clock: FakeClock, tmp_path: Path
) -> None:
    receiver = Receiver(failures=1)
    async with serve(receiver) as url:
        await apply_shop(container, tmp_path, url, clock)
        body = json.dumps({"user": "u7", "text": "运费怎么算", "id": "x1"}).encode()
        event = parse(body, channel_public_id="hookshop.api", now=clock.now())
        result = await container.pipeline.feed(event, sync_grace=None)

        assert await container.outbox_worker.run_once() == 1  # 503 → retry later
        assert await container.outbox_worker.run_once() == 0  # not due yet
        clock.advance(timedelta(seconds=5))
        assert await container.outbox_worker.run_once() == 1  # accepted

    assert len(receiver.received) == 2
    sent_body, signature = receiver.received[-1]
    verify_signature(SECRET, sent_body, signature)
    assert signature == sign(SECRET, sent_body)
    payload = json.loads(sent_body)
    assert payload["user"] == "u7"
    assert "满99元包邮" in payload["text"]
    async with container.store.transaction() as tx:
        item = await tx.outbox.for_message(result.replies[0].message_id)
    assert item is not None
    assert item.status is OutboxStatus.DELIVERED
    assert item.attempts == 2
