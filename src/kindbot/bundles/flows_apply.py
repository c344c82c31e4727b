"""Checking and storing a bundle's ``flows:`` and ``endpoints:`` (part of the apply)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from kindbot.bundles.flow_schema import endpoint_specs, flow_book, flows_problems
from kindbot.bundles.loader import bundle_node, located_problem
from kindbot.bundles.schema import Bundle
from kindbot.core.errors import InputFileError
from kindbot.core.ports.seams import Transaction
from kindbot.core.records.flows import FlowDefinitions
from kindbot.dialogue.flow_codec import flows_to_json
from kindbot.pipeline.decide.flow_calls import endpoints_to_json
from kindbot.storage.sealing import SealError, SecretBox


def check_flows(bundle: Bundle, path: Path) -> None:
    """Every flow is well formed; else :class:`InputFileError` with each problem's path and line."""
    found = flows_problems(bundle.flows, bundle.endpoints)
    if not found:
        return
    node = bundle_node(path)
    raise InputFileError([located_problem(str(path), node, loc, m) for loc, m in found])


async def apply_flows(
    tx: Transaction, box: SecretBox, bundle: Bundle, tenant_id: str, now: datetime
) -> bool:
    """Store the bundle's flows and (sealed) endpoints; True when they changed.

    A bundle with neither a ``flows`` nor an ``endpoints`` key leaves the
    tenant's flows as they are; ``flows: []`` removes them. Conversations in
    a flow that changed continue where they can (a state that no longer
    exists ends the flow at the next message).
    """
    if not {"flows", "endpoints"} & bundle.model_fields_set:
        return False
    if not bundle.flows and not bundle.endpoints:
        return await tx.flows.replace_definitions(tenant_id, None)
    flows_json = flows_to_json(flow_book(bundle.flows))
    endpoints_json = endpoints_to_json(endpoint_specs(bundle.endpoints))
    existing = await tx.flows.definitions(tenant_id)
    if (
        existing is not None
        and existing.flows_json == flows_json
        and _opens_to(box, existing.endpoints_sealed, endpoints_json)
    ):
        return False
    wanted = FlowDefinitions(flows_json, box.seal(endpoints_json), now)
    return await tx.flows.replace_definitions(tenant_id, wanted)


def _opens_to(box: SecretBox, sealed: str | None, plain: str) -> bool:
    try:
        return sealed is not None and box.open(sealed) == plain
    except SealError:
        return False
