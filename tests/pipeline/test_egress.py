"""One address policy for every URL a tenant configures: at apply time and at connect time.

The connect-time tests resolve a public-looking name through a resolver seam
that answers with the real resolution of ``localhost``, and serve a real HTTP
endpoint there: what a DNS record pointing at an internal address would do.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests.support.clock import FakeClock
from tests.support.live import serve_app

from kindbot.bootstrap import Container, open_container
from kindbot.bundles.apply import apply_bundle
from kindbot.channels.webhook import WebhookAdapter, WebhookConfig
from kindbot.core.egress import (
    STRICT,
    AddressPolicy,
    IpAddress,
    PinnedTransport,
    RefusedAddressError,
    system_resolve,
    url_problem,
)
from kindbot.core.errors import InputFileError
from kindbot.core.events import DeliveryRequest, DeliveryStatus
from kindbot.settings import Settings

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
PUBLIC_LOOKING = "shop-api.example.com"
PRIVATE = AddressPolicy(allow_private=True)


@pytest.fixture
def container_backend() -> str:
    return "sqlite"


async def localhost_resolver(host: str, port: int) -> Sequence[IpAddress]:
    """Every name resolves as ``localhost`` really does (a rebinding DNS record)."""
    return await system_resolve("localhost", port)


async def public_resolver(host: str, port: int) -> Sequence[IpAddress]:
    return [ipaddress.ip_address("93.184.216.34")]


class Endpoint:
    """A real HTTP endpoint on loopback that records the Host of every request it gets."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def handle(self, request: Request) -> JSONResponse:
        self.hosts.append(request.headers.get("host", ""))
        return JSONResponse({"ok": True})


@asynccontextmanager
async def endpoint() -> AsyncIterator[tuple[Endpoint, int]]:
    seen = Endpoint()
    app = Starlette(routes=[Route("/{path:path}", seen.handle, methods=["GET", "POST"])])
    async with serve_app(app) as base:
        yield seen, httpx.URL(base).port or 80


@pytest.mark.parametrize(
    ("address", "strict", "private"),
    [
        ("93.184.216.34", True, True),
        ("2606:2800:220:1:248:1893:25c8:1946", True, True),
        ("127.0.0.1", False, True),
        ("10.1.2.3", False, True),
        ("192.168.1.1", False, True),
        ("100.64.0.1", False, True),
        ("::1", False, True),
        ("fd00::1", False, True),
        ("::ffff:10.0.0.1", False, True),
        ("169.254.169.254", False, False),  # cloud metadata: never
        ("::ffff:169.254.169.254", False, False),
        ("fe80::1", False, False),
        ("0.0.0.0", False, False),
        ("::", False, False),
        ("224.0.0.1", False, False),
        ("ff02::1", False, False),
    ],
)
def test_the_policy_allows_public_addresses_private_on_request_and_link_local_never(
    address: str, strict: bool, private: bool
) -> None:
    ip = ipaddress.ip_address(address)
    assert (STRICT.refusal(ip) is None) is strict
    assert (PRIVATE.refusal(ip) is None) is private


async def test_apply_time_checks_literals_and_resolved_names() -> None:
    assert await url_problem("https://93.184.216.34/x", STRICT) is None
    assert "link-local" in str(await url_problem("http://169.254.169.254/latest", PRIVATE))
    assert "not a public address" in str(await url_problem("http://localhost:8080/", STRICT))
    assert await url_problem("http://localhost:8080/", PRIVATE) is None
    assert await url_problem(f"https://{PUBLIC_LOOKING}/", STRICT, public_resolver) is None
    found = await url_problem(f"https://{PUBLIC_LOOKING}/", STRICT, localhost_resolver)
    assert found is not None
    assert found.startswith(f"{PUBLIC_LOOKING} resolves to ")
    assert await url_problem("http://no-such-name.invalid/", STRICT) is None  # decided later


def write_bundle(tmp_path: Path) -> Path:
    path = tmp_path / "bundle.yaml"
    path.write_text(
        "tenant: {slug: ssrf, name: SSRF, industry: retail}\n"  # line 1
        "channels:\n"
        "  - id: hook\n"
        "    type: webhook\n"
        "    secret: webhook-secret-0123456789\n"
        "    outgoing_url: 'http://169.254.169.254/latest/meta-data'\n"  # line 6
        "  - {id: oa, type: wechat_oa, app_id: wx0123456789abcdef,"
        " app_secret: s3cret0123456789abcdef, token: tok123,"
        " encoding_aes_key: " + "a" * 43 + ", api_base: 'http://10.0.0.5'}\n"  # line 7
        "endpoints:\n"
        "  orders:\n"
        "    url: 'http://localhost:9/orders'\n"  # line 10
        "llm:\n"
        "  base_url: 'http://[::1]:11434/v1'\n"  # line 12
        "  model: qwen2.5\n",
        encoding="utf-8",
    )
    return path


async def test_apply_refuses_each_non_public_url_with_its_line_and_applies_nothing(
    container: Container, tmp_path: Path
) -> None:
    path = write_bundle(tmp_path)
    with pytest.raises(InputFileError) as refused:
        await apply_bundle(container.store, container.box, path, NOW)
    found = {(p.location, p.row) for p in refused.value.problems}
    assert found == {
        ("channels[0].outgoing_url", 6),
        ("channels[1].api_base", 7),
        ("endpoints.orders.url", 10),
        ("llm.base_url", 12),
    }
    assert all(p.file == str(path) for p in refused.value.problems)
    async with container.store.transaction(readonly=True) as tx:
        assert await tx.tenants.get_by_slug("ssrf") is None

    with pytest.raises(InputFileError) as still:  # allowing private endpoints: not metadata
        await apply_bundle(container.store, container.box, path, NOW, addresses=PRIVATE)
    assert [(p.location, p.row) for p in still.value.problems] == [("channels[0].outgoing_url", 6)]


async def test_connect_time_refuses_a_name_that_resolves_to_a_private_address() -> None:
    async with endpoint() as (seen, port):
        url = f"http://{PUBLIC_LOOKING}:{port}/orders"
        strict = PinnedTransport(STRICT, resolve=localhost_resolver)
        async with httpx.AsyncClient(transport=strict) as http:
            with pytest.raises(RefusedAddressError, match="resolves to"):
                await http.get(url)
        assert seen.hosts == []

        allowed = PinnedTransport(PRIVATE, resolve=localhost_resolver)
        async with httpx.AsyncClient(transport=allowed) as http:
            response = await http.get(url)
        assert response.status_code == 200
        assert seen.hosts == [f"{PUBLIC_LOOKING}:{port}"]  # pinned; the name stays in Host


async def test_redirects_are_not_followed_and_metadata_is_refused_even_when_private_is_allowed(
    container: Container,
) -> None:
    assert container.http.follow_redirects is False
    async with httpx.AsyncClient(transport=PinnedTransport(PRIVATE)) as http:
        with pytest.raises(RefusedAddressError, match="link-local"):
            await http.get("http://169.254.169.254/latest/meta-data")


async def test_a_webhook_reply_to_a_refused_address_fails_without_a_request() -> None:
    async with endpoint() as (seen, port):
        config = WebhookConfig(
            secret="webhook-secret-0123456789",
            outgoing_url=f"http://{PUBLIC_LOOKING}:{port}/hook",
        )
        transport = PinnedTransport(STRICT, resolve=localhost_resolver)
        async with httpx.AsyncClient(transport=transport) as http:
            outcome = await WebhookAdapter(http).deliver(
                DeliveryRequest(
                    outbox_id="o1",
                    tenant_id="t1",
                    channel_public_id="shop.hook",
                    channel_config=config.model_dump_json(),
                    recipient="u1",
                    text="您好",
                    message_id="m1",
                    created_at=NOW,
                )
            )
    assert outcome.status is DeliveryStatus.FAILED
    assert "refused" in str(outcome.detail)
    assert seen.hosts == []


async def test_the_containers_client_checks_every_call_it_makes(
    settings: Settings, clock: FakeClock
) -> None:
    strict = replace(settings, allow_private_endpoints=False)
    async with endpoint() as (seen, port), open_container(strict, clock=clock) as guarded:
        for url in (f"http://localhost:{port}/hook", f"http://127.0.0.1:{port}/v1"):
            with pytest.raises(RefusedAddressError):
                await guarded.http.post(url, json={})
        assert seen.hosts == []
    async with endpoint() as (seen, port), open_container(settings, clock=clock) as allowed:
        assert (await allowed.http.post(f"http://localhost:{port}/hook")).status_code == 200
