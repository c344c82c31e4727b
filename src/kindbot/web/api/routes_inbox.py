"""``/api/v1/tenants/{slug}/agents`` and ``…/inbox``: human handoff for agents.

The admin or the tenant's API key manages agents. Inbox actions that an
agent performs (claim, reply, resolve, transfer) name the agent in the
``X-Kindbot-Agent`` header (its id or name); the agent must belong to the
tenant in the path (else 404 ``unknown_agent``) and audit entries name both
the credential's actor and the agent. ``…/inbox/events`` streams live
updates as server-sent events.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from kindbot.core.errors import BadRequestError
from kindbot.core.records.conversations import ConversationState
from kindbot.core.records.handoff import AgentRecord
from kindbot.inbox.desk import Acting
from kindbot.web.api.auth import CurrentPrincipal, TenantAccess
from kindbot.web.api.models import ERRORS, ErrorBody, ErrorDetail
from kindbot.web.api.models_guard import VerdictOut
from kindbot.web.api.models_inbox import (
    AgentIn,
    AgentList,
    AgentOut,
    ConversationOut,
    InboxItemOut,
    InboxList,
    MessageOut,
    ReplyDenied,
    ReplyIn,
    ReplyOut,
    TransferIn,
)
from kindbot.web.deps import container_of
from kindbot.web.sse import event_stream

router = APIRouter(tags=["inbox"], responses=ERRORS)

AGENTS = "/tenants/{slug}/agents"
INBOX = "/tenants/{slug}/inbox"
ONE = INBOX + "/{conversation_id}"
AGENT_HEADER = "X-Kindbot-Agent"


async def acting_agent(
    tenant: TenantAccess,
    principal: CurrentPrincipal,
    request: Request,
    agent: Annotated[str | None, Header(alias=AGENT_HEADER)] = None,
) -> Acting:
    """The agent named by ``X-Kindbot-Agent`` acting through the caller's credential."""
    if not agent:
        raise BadRequestError(f"name the acting agent in {AGENT_HEADER}", code="missing_agent")
    found = await container_of(request).inbox.agent(tenant, agent)
    return Acting(principal.actor, found)


ActingAgent = Annotated[Acting, Depends(acting_agent)]


@router.post(AGENTS, status_code=status.HTTP_201_CREATED)
async def add_agent(body: AgentIn, tenant: TenantAccess, request: Request) -> AgentOut:
    """A new agent, offline until ``…/online``. 409 ``agent_exists``."""
    return AgentOut.of(await container_of(request).inbox.add_agent(tenant, body.name))


@router.get(AGENTS)
async def list_agents(tenant: TenantAccess, request: Request) -> AgentList:
    """The tenant's agents, oldest first."""
    agents = await container_of(request).inbox.agents(tenant)
    return AgentList(agents=[AgentOut.of(a) for a in agents])


@router.post(AGENTS + "/{agent}/online")
async def agent_online(agent: str, tenant: TenantAccess, request: Request) -> AgentOut:
    """The agent (id or name) takes round-robin assignments from now on."""
    return AgentOut.of(await container_of(request).inbox.set_online(tenant, agent, True))


@router.post(AGENTS + "/{agent}/offline")
async def agent_offline(agent: str, tenant: TenantAccess, request: Request) -> AgentOut:
    """The agent (id or name) takes no more round-robin assignments."""
    return AgentOut.of(await container_of(request).inbox.set_online(tenant, agent, False))


@router.get(INBOX)
async def inbox(
    tenant: TenantAccess,
    request: Request,
    state: ConversationState | None = None,
    agent: str | None = None,
) -> InboxList:
    """Handed-off conversations: ``waiting`` and ``human`` ones unless ``state`` says which.

    ``agent`` (id or name) keeps those assigned to that agent.
    """
    container = container_of(request)
    found: AgentRecord | None = None
    if agent is not None:
        found = await container.inbox.agent(tenant, agent)
    items = await container.inbox.list(
        tenant, state=state, agent_id=found.id if found is not None else None
    )
    return InboxList(conversations=[InboxItemOut.of(i) for i in items])


@router.get(
    INBOX + "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(tenant: TenantAccess, request: Request) -> StreamingResponse:
    """Live inbox events as ``text/event-stream`` (``event: <kind>``, ``data: <json>``).

    Kinds: ``waiting``, ``assigned``, ``message``, ``resolved``, ``rated``.
    A comment line is sent at once and every 15 s while idle.
    """
    return event_stream(container_of(request).inbox_bus, tenant.id)


@router.get(ONE)
async def read(conversation_id: str, tenant: TenantAccess, request: Request) -> ConversationOut:
    """One handed-off conversation and its messages, oldest first."""
    found = await container_of(request).inbox.read(tenant, conversation_id)
    return ConversationOut(
        conversation=InboxItemOut.of(found.item),
        messages=[MessageOut.of(m) for m in found.messages],
    )


@router.post(ONE + "/claim")
async def claim(
    conversation_id: str, tenant: TenantAccess, acting: ActingAgent, request: Request
) -> InboxItemOut:
    """``waiting → human`` for the acting agent (audited). 409 ``invalid_transition``."""
    item = await container_of(request).inbox.claim(tenant, conversation_id, acting)
    return InboxItemOut.of(item)


@router.post(ONE + "/transfer")
async def transfer(
    conversation_id: str,
    body: TransferIn,
    tenant: TenantAccess,
    acting: ActingAgent,
    request: Request,
) -> InboxItemOut:
    """Hand the acting agent's conversation to another agent (audited)."""
    inbox_ = container_of(request).inbox
    to = await inbox_.agent(tenant, body.agent)
    return InboxItemOut.of(await inbox_.transfer(tenant, conversation_id, acting, to))


@router.post(ONE + "/resolve")
async def resolve(
    conversation_id: str, tenant: TenantAccess, acting: ActingAgent, request: Request
) -> InboxItemOut:
    """``→ resolved`` (audited); the satisfaction question goes out through the guard."""
    item = await container_of(request).inbox.resolve(tenant, conversation_id, acting)
    return InboxItemOut.of(item)


@router.post(
    ONE + "/reply",
    status_code=status.HTTP_201_CREATED,
    responses={403: {"model": ReplyDenied | ErrorBody}},
)
async def reply(
    conversation_id: str,
    body: ReplyIn,
    tenant: TenantAccess,
    acting: ActingAgent,
    request: Request,
) -> Response:
    """The acting agent's message to the contact, through the guard.

    201 with the message id when admitted; 403 ``guard_denied`` with the
    ``verdict`` when the guard refused it (window, content, standing…).
    """
    outcome = await container_of(request).inbox.reply(tenant, conversation_id, acting, body.text)
    verdict = VerdictOut.of(outcome.verdict)
    if outcome.message_id is None:
        error = ErrorDetail(code="guard_denied", message=outcome.verdict.reason_en)
        denied = ReplyDenied(error=error, verdict=verdict)
        return JSONResponse(denied.model_dump(mode="json"), status_code=403)
    sent = ReplyOut(message_id=outcome.message_id, verdict=verdict)
    return JSONResponse(sent.model_dump(mode="json"), status_code=201)
