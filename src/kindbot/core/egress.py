"""Outgoing HTTP calls a tenant configures: which addresses they may reach (SSRF policy).

A tenant chooses URLs our server calls — flow endpoints (``endpoints:``), a
webhook's ``outgoing_url``, the LLM's ``base_url`` (``llm:``) and WeChat /
WeCom ``api_base`` — so without a policy a bundle could make kindbot call
its own network (databases, admin ports) or the cloud's metadata service.
This module is the one policy for all of them, applied twice:

* at apply time (:func:`url_problem`, called by bundle validation): a literal
  address must be allowed, and a host name must resolve only to allowed
  addresses. A name that does not resolve (yet) is accepted — DNS may be
  unreachable where bundles are applied; the connect-time check decides;
* at connect time (:class:`PinnedTransport`, the transport of the container's
  HTTP client that every such call uses): the host is resolved, every address
  must be allowed, and the request goes to that checked address (the URL's host
  stays in ``Host`` and in TLS SNI), so a second DNS answer cannot swap in
  another one. Redirects are never followed (the client is built with
  ``follow_redirects=False``; a followed one would be checked again here).

What is allowed (:meth:`AddressPolicy.refusal`): public (globally routable,
not multicast) addresses. Loopback, private (10/8, 172.16/12, 192.168/16,
fc00::/7), shared (100.64/10) and other non-global unicast addresses only when
the platform allows private endpoints (``KINDBOT_ALLOW_PRIVATE_ENDPOINTS=1``:
tests, the demo's simulator, an operator's own network). Link-local addresses
(169.254/16 — cloud metadata at 169.254.169.254 — and fe80::/10), the
unspecified address and multicast are refused always.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx

__all__ = [
    "STRICT",
    "AddressPolicy",
    "IpAddress",
    "PinnedTransport",
    "RefusedAddressError",
    "Resolver",
    "checked_address",
    "is_public",
    "system_resolve",
    "url_problem",
]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[IpAddress]]]
"""Host name and port → the addresses it resolves to (a seam for tests)."""

APPLY_RESOLVE_TIMEOUT_S = 5.0


class RefusedAddressError(httpx.TransportError):
    """The URL's host is (or resolves to) an address the policy refuses."""


async def system_resolve(host: str, port: int) -> list[IpAddress]:
    """The host's addresses from the system resolver (``getaddrinfo``)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def is_public(address: IpAddress) -> bool:
    """Whether ``address`` may be called without the platform's permission."""
    address = _unmapped(address)
    return address.is_global and not address.is_multicast


def _unmapped(address: IpAddress) -> IpAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which addresses tenant-configured calls may reach (see the module docstring)."""

    allow_private: bool = False

    def refusal(self, address: IpAddress) -> str | None:
        """Why ``address`` is refused, or None when it is allowed."""
        address = _unmapped(address)
        if address.is_link_local:
            return f"{address} is link-local (cloud metadata lives there): never allowed"
        if address.is_unspecified or address.is_multicast:
            return f"{address} is not a unicast address: never allowed"
        if is_public(address) or self.allow_private:
            return None
        return (
            f"{address} is not a public address "
            "(the platform allows these with KINDBOT_ALLOW_PRIVATE_ENDPOINTS=1)"
        )


STRICT = AddressPolicy()
"""Public addresses only (the platform's default)."""


def _default_port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def _literal(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def checked_address(
    url: httpx.URL, policy: AddressPolicy, resolve: Resolver = system_resolve
) -> IpAddress:
    """The address to connect to for ``url``: its host's first, once every one is allowed.

    Raises :class:`RefusedAddressError` (a refused scheme or address, no
    address) or ``OSError`` when the name does not resolve.
    """
    if url.scheme not in ("http", "https"):
        raise RefusedAddressError(f"scheme {url.scheme!r} is not http or https")
    literal = _literal(url.host)
    addresses = (
        [literal] if literal is not None else list(await resolve(url.host, _default_port(url)))
    )
    if not addresses:
        raise RefusedAddressError(f"{url.host} has no address")
    for address in addresses:
        reason = policy.refusal(address)
        if reason is not None:
            where = "" if literal is not None else f"{url.host} resolves to "
            raise RefusedAddressError(f"{where}{reason}")
    return addresses[0]


async def url_problem(
    url: str, policy: AddressPolicy, resolve: Resolver = system_resolve
) -> str | None:
    """Apply-time check of a configured URL: what is wrong with it, or None.

    Unresolvable names pass (see the module docstring).
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        return f"not a valid URL: {exc}"
    if not parsed.host:
        return "the URL has no host"
    try:
        async with asyncio.timeout(APPLY_RESOLVE_TIMEOUT_S):
            await checked_address(parsed, policy, resolve)
    except RefusedAddressError as exc:
        return str(exc)
    except (OSError, TimeoutError, UnicodeError):
        return None
    return None


class PinnedTransport(httpx.AsyncBaseTransport):
    """An HTTP transport that sends each request only to a checked address of its host.

    Wraps ``inner`` (a plain :class:`httpx.AsyncHTTPTransport` by default).
    A refused address is :class:`RefusedAddressError`; a name that does not
    resolve is :class:`httpx.ConnectError` — both ``httpx.HTTPError``.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        resolve: Resolver = system_resolve,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.policy = policy
        self._resolve = resolve
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        try:
            address = await checked_address(url, self.policy, self._resolve)
        except RefusedAddressError as exc:
            raise RefusedAddressError(str(exc), request=request) from None
        except OSError as exc:
            raise httpx.ConnectError(f"{url.host}: {exc}", request=request) from exc
        request.url = url.copy_with(host=str(address))
        request.headers.setdefault("Host", url.netloc.decode("ascii"))
        if url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": url.host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
