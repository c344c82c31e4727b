"""The bundle's outgoing URLs, checked against the platform's address policy before applying.

Every URL a bundle makes kindbot call — webhook ``outgoing_url``, WeChat/WeCom
``api_base`` (when set), flow endpoints and the ``llm`` base URL — must resolve
to addresses :mod:`kindbot.core.egress` allows; each refused one is a problem with
the file, line and field. The same policy is enforced again at connect time.
"""

from __future__ import annotations

from pathlib import Path

from kindbot.bundles.loader import bundle_node, located_problem
from kindbot.bundles.schema import Bundle
from kindbot.core.egress import AddressPolicy, Resolver, system_resolve, url_problem
from kindbot.core.errors import InputFileError, InputProblem

Location = tuple[int | str, ...]


def configured_urls(bundle: Bundle) -> list[tuple[Location, str]]:
    """Every URL the bundle makes kindbot call, with where it is in the bundle.

    WeChat/WeCom ``api_base`` counts only when the bundle sets it (the default
    is WeChat's own API).
    """
    found: list[tuple[Location, str]] = []
    for position, spec in enumerate(bundle.channels):
        for field, url in spec.configured_urls().items():
            found.append((("channels", position, field), url))
    for name, endpoint in bundle.endpoints.items():
        found.append((("endpoints", name, "url"), endpoint.url))
    if bundle.llm is not None:
        found.append((("llm", "base_url"), bundle.llm.base_url))
    return found


async def check_addresses(
    bundle: Bundle, source: str, policy: AddressPolicy, resolve: Resolver = system_resolve
) -> None:
    """Every configured URL's address is allowed by ``policy``.

    Raises :class:`InputFileError` naming ``source``'s line and field of each refused URL.
    """
    problems: list[InputProblem] = []
    for loc, url in configured_urls(bundle):
        problem = await url_problem(url, policy, resolve)
        if problem is not None:
            problems.append(located_problem(source, bundle_node(Path(source)), loc, problem))
    if problems:
        raise InputFileError(problems)
