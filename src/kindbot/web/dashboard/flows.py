"""A shop's flows in the dashboard: each drawn as a diagram, with the conversations in one now.

Every member reads it. The flows are the tenant's stored definitions (the
bundle's ``flows:``, as the pipeline reads them); each is laid out by
:mod:`kindbot.web.dashboard.flow_diagram` and drawn server-side as inline
SVG beside a text list of the same transitions. Nothing keeps a history of
finished runs: a conversation's flow state lives only while it is in a flow,
so the page lists the conversations in a flow now — which flow, which state,
when it last moved.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from kindbot.core.records.flows import ConversationFlow
from kindbot.dialogue.flow_codec import flows_from_json
from kindbot.dialogue.flow_specs import FlowBook, FlowSpec
from kindbot.web.dashboard.flow_diagram import (
    BOX_HEIGHT,
    BOX_WIDTH,
    END,
    Diagram,
    Transition,
    layout,
    transitions,
)
from kindbot.web.dashboard.pages import SignedInVisitor, shop_for
from kindbot.web.dashboard.rendering import render
from kindbot.web.deps import container_of

router = APIRouter(include_in_schema=False)
RUNS_SHOWN = 100


@dataclass(frozen=True, slots=True)
class FlowView:
    """One flow as the page shows it: its definition, diagram and transitions."""

    spec: FlowSpec
    diagram: Diagram
    transitions: tuple[Transition, ...]


@router.get("/dashboard/{slug}/flows")
async def flows_page(slug: str, request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    """Every flow of the shop as a diagram, and the conversations in a flow now."""
    tenant, role = await shop_for(request, visitor, slug)
    async with container_of(request).store.transaction(readonly=True) as tx:
        definitions = await tx.flows.definitions(tenant.id)
        runs: list[ConversationFlow] = await tx.flows.states_of_tenant(tenant.id, RUNS_SHOWN)
    book = flows_from_json(definitions.flows_json) if definitions else FlowBook()
    views = [FlowView(flow, layout(flow), transitions(flow)) for flow in book.flows]
    return render(
        request,
        "flows.html",
        visitor,
        tenant=tenant,
        role=role,
        flows=views,
        runs=runs,
        end=END,
        box_width=BOX_WIDTH,
        box_height=BOX_HEIGHT,
    )
