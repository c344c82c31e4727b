"""The agents' inbox in the dashboard: waiting / mine / all, live, with the conversation beside.

Every action goes through :class:`kindbot.inbox.desk.Inbox`, the service of the
REST API: claims, transfers and resolutions are audited, and a reply passes the
guard like every send — when the guard refuses it, the page shows why and what
would make it pass. Shop admins and agents act (as the shop's inbox agent named
by their email, created on their first action); viewers only read. The list and
the open conversation refresh themselves on the shop's inbox events (server-sent
events, ``/dashboard/{slug}/inbox/events``) through htmx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from kindbot.core.errors import KindbotError
from kindbot.core.events import Verdict
from kindbot.core.records.accounts import Role
from kindbot.core.records.conversations import ConversationState
from kindbot.core.records.directory import TimelineItem, TimelineKind
from kindbot.core.records.handoff import AgentRecord, ConversationNote, InboxItem
from kindbot.core.records.tenancy import TenantRecord
from kindbot.inbox.desk import Acting, Conversation
from kindbot.ops.accounts import Visitor, agent_for
from kindbot.ops.directory import contact_timeline
from kindbot.web.dashboard.pages import SignedInVisitor, redirect, shop_for, shop_form
from kindbot.web.dashboard.rendering import render
from kindbot.web.dashboard.session import PageError
from kindbot.web.deps import container_of
from kindbot.web.sse import event_stream

router = APIRouter(include_in_schema=False)
ACTORS = (Role.TENANT_ADMIN, Role.AGENT)
View = Literal["waiting", "mine", "all"]
VIEWS: tuple[View, ...] = ("waiting", "mine", "all")


@dataclass(frozen=True, slots=True)
class InboxScreen:
    """What the inbox page shows: the list, the open conversation, who is online."""

    view: View
    items: tuple[InboxItem, ...]
    agents: dict[str, AgentRecord]
    me: AgentRecord | None
    online: int
    open: Conversation | None
    notes: tuple[ConversationNote, ...]
    contact_id: str | None = None
    history: tuple[TimelineItem, ...] = ()
    """The customer's recent consents, orders, opt-outs and handoffs (not messages)."""


def pick_view(value: str | None) -> View:
    """The list asked for (``waiting`` by default)."""
    return next((v for v in VIEWS if v == value), "waiting")


def shown(items: list[InboxItem], view: View, me: AgentRecord | None) -> tuple[InboxItem, ...]:
    """The items of ``view``: waiting ones, mine (held by ``me``), or every open one."""
    if view == "waiting":
        return tuple(i for i in items if i.state is ConversationState.WAITING)
    if view == "mine":
        return tuple(i for i in items if me is not None and i.agent_id == me.id)
    return tuple(items)


async def _me(request: Request, tenant: TenantRecord, visitor: Visitor) -> AgentRecord | None:
    """The visitor's inbox agent, when they have one (created on their first action)."""
    agents = await container_of(request).inbox.agents(tenant)
    return next((a for a in agents if a.name == visitor.user.email), None)


async def _acting(request: Request, tenant: TenantRecord, visitor: Visitor) -> Acting:
    container = container_of(request)
    async with container.store.transaction() as tx:
        agent_id = await agent_for(tx, tenant.id, visitor.user, container.clock.now())
    agent = await container.inbox.agent(tenant, agent_id)
    return Acting(f"user:{visitor.user.email}", agent)


async def _screen(
    request: Request, tenant: TenantRecord, visitor: Visitor, view: View, open_id: str | None
) -> InboxScreen:
    container = container_of(request)
    agents = await container.inbox.agents(tenant)
    me = next((a for a in agents if a.name == visitor.user.email), None)
    items = await container.inbox.list(tenant, state=None, agent_id=None)
    conversation = None
    notes: tuple[ConversationNote, ...] = ()
    if open_id:
        try:
            conversation = await container.inbox.read(tenant, open_id)
        except KindbotError:
            raise PageError(404, "not_found") from None
        notes = await container.inbox.notes(tenant, open_id)
        contact_id, history = await _history(request, tenant, open_id)
    return InboxScreen(
        view=view,
        items=shown(items, view, me),
        agents={a.id: a for a in agents},
        me=me,
        online=sum(a.online for a in agents),
        open=conversation,
        notes=notes,
        contact_id=contact_id if conversation else None,
        history=history if conversation else (),
    )


HISTORY_ITEMS = 12
CHAT_KINDS = frozenset({TimelineKind.MESSAGE_IN, TimelineKind.MESSAGE_OUT, TimelineKind.NOTE})


async def _history(
    request: Request, tenant: TenantRecord, conversation_id: str
) -> tuple[str | None, tuple[TimelineItem, ...]]:
    """The conversation's contact and what its timeline adds to the chat beside it."""
    store = container_of(request).store
    async with store.transaction(readonly=True) as tx:
        found = await tx.conversations.get(conversation_id)
    if found is None:
        return None, ()
    page = await contact_timeline(store, tenant, found.contact_id, None, 50)
    return found.contact_id, tuple(i for i in page.items if i.kind not in CHAT_KINDS)[
        :HISTORY_ITEMS
    ]


async def _page(
    request: Request,
    visitor: Visitor,
    tenant: TenantRecord,
    role: Role,
    *,
    template: str = "inbox.html",
    status: int = 200,
    refused: Verdict | None = None,
    error: str | None = None,
    draft: str = "",
) -> HTMLResponse:
    params = request.query_params
    screen = await _screen(request, tenant, visitor, pick_view(params.get("view")), params.get("c"))
    return render(
        request,
        template,
        visitor,
        status=status,
        tenant=tenant,
        role=role,
        screen=screen,
        can_act=role in ACTORS,
        refused=refused,
        error=error,
        draft=draft,
    )


@router.get("/dashboard/{slug}/inbox")
async def inbox_page(slug: str, request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    """The inbox: a list (``?view=``) and the open conversation (``?c=``)."""
    tenant, role = await shop_for(request, visitor, slug)
    return await _page(request, visitor, tenant, role)


@router.get("/dashboard/{slug}/inbox/list")
async def inbox_list(slug: str, request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    """The list and the online state alone (htmx refreshes it on inbox events)."""
    tenant, role = await shop_for(request, visitor, slug)
    return await _page(request, visitor, tenant, role, template="inbox_list.html")


@router.get("/dashboard/{slug}/inbox/thread")
async def inbox_thread(slug: str, request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    """The open conversation's messages, notes and actions alone (refreshed on events)."""
    tenant, role = await shop_for(request, visitor, slug)
    return await _page(request, visitor, tenant, role, template="inbox_thread.html")


@router.get("/dashboard/{slug}/inbox/events")
async def inbox_events(slug: str, request: Request, visitor: SignedInVisitor) -> StreamingResponse:
    """The shop's inbox events (server-sent), for the page's live refresh."""
    tenant, _ = await shop_for(request, visitor, slug)
    return event_stream(container_of(request).inbox_bus, tenant.id)


@router.post("/dashboard/{slug}/inbox/{conversation_id}/claim")
async def claim(
    slug: str,
    conversation_id: str,
    request: Request,
    visitor: SignedInVisitor,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Take a waiting conversation (it moves to the visitor's list)."""
    return await _move(request, visitor, slug, conversation_id, csrf, resolve=False)


@router.post("/dashboard/{slug}/inbox/{conversation_id}/resolve")
async def resolve(
    slug: str,
    conversation_id: str,
    request: Request,
    visitor: SignedInVisitor,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Resolve a conversation (then the rating question, through the guard)."""
    return await _move(request, visitor, slug, conversation_id, csrf, resolve=True)


async def _move(
    request: Request, visitor: Visitor, slug: str, conversation_id: str, csrf: str, *, resolve: bool
) -> Response:
    tenant, role = await shop_form(request, visitor, slug, csrf, ACTORS)
    inbox = container_of(request).inbox
    acting = await _acting(request, tenant, visitor)
    try:
        if resolve:
            await inbox.resolve(tenant, conversation_id, acting)
        else:
            await inbox.claim(tenant, conversation_id, acting)
    except KindbotError as refused:
        return await _failed(request, visitor, tenant, role, conversation_id, refused)
    view = "waiting" if resolve else "mine"
    return redirect(f"/dashboard/{slug}/inbox?view={view}&c={conversation_id}")


@router.post("/dashboard/{slug}/inbox/{conversation_id}/transfer")
async def transfer(
    slug: str,
    conversation_id: str,
    request: Request,
    visitor: SignedInVisitor,
    to: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Hand the visitor's conversation to another agent of the shop."""
    tenant, role = await shop_form(request, visitor, slug, csrf, ACTORS)
    inbox = container_of(request).inbox
    try:
        target = await inbox.agent(tenant, to)
        await inbox.transfer(
            tenant, conversation_id, await _acting(request, tenant, visitor), target
        )
    except KindbotError as refused:
        return await _failed(request, visitor, tenant, role, conversation_id, refused)
    return redirect(f"/dashboard/{slug}/inbox?view=all&c={conversation_id}")


@router.post("/dashboard/{slug}/inbox/{conversation_id}/reply")
async def reply(
    slug: str,
    conversation_id: str,
    request: Request,
    visitor: SignedInVisitor,
    text: Annotated[str, Form(max_length=4000)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Send the visitor's reply through the guard; a refusal is shown with its reason."""
    tenant, role = await shop_form(request, visitor, slug, csrf, ACTORS)
    inbox = container_of(request).inbox
    try:
        outcome = await inbox.reply(
            tenant, conversation_id, await _acting(request, tenant, visitor), text
        )
    except KindbotError as refused:
        return await _failed(request, visitor, tenant, role, conversation_id, refused, draft=text)
    if outcome.message_id is None:
        return await _with_conversation(
            request,
            visitor,
            tenant,
            role,
            conversation_id,
            status=422,
            refused=outcome.verdict,
            draft=text,
        )
    return redirect(f"/dashboard/{slug}/inbox?view=mine&c={conversation_id}")


@router.post("/dashboard/{slug}/inbox/{conversation_id}/note")
async def note(
    slug: str,
    conversation_id: str,
    request: Request,
    visitor: SignedInVisitor,
    text: Annotated[str, Form(max_length=4000)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Add an internal note (never sent to the customer)."""
    tenant, role = await shop_form(request, visitor, slug, csrf, ACTORS)
    try:
        await container_of(request).inbox.add_note(
            tenant, conversation_id, visitor.user.email, text
        )
    except KindbotError as refused:
        return await _failed(request, visitor, tenant, role, conversation_id, refused)
    return redirect(f"/dashboard/{slug}/inbox?view=all&c={conversation_id}")


@router.post("/dashboard/{slug}/inbox/presence")
async def presence(
    slug: str,
    request: Request,
    visitor: SignedInVisitor,
    online: Annotated[bool, Form()] = False,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Go online (take round-robin hand-offs) or offline."""
    tenant, _ = await shop_form(request, visitor, slug, csrf, ACTORS)
    acting = await _acting(request, tenant, visitor)
    await container_of(request).inbox.set_online(tenant, acting.agent.id, online)
    return redirect(f"/dashboard/{slug}/inbox")


async def _with_conversation(
    request: Request,
    visitor: Visitor,
    tenant: TenantRecord,
    role: Role,
    conversation_id: str,
    *,
    status: int,
    refused: Verdict | None = None,
    error: str | None = None,
    draft: str = "",
) -> HTMLResponse:
    screen = await _screen(request, tenant, visitor, "all", conversation_id)
    return render(
        request,
        "inbox.html",
        visitor,
        status=status,
        tenant=tenant,
        role=role,
        screen=screen,
        can_act=True,
        refused=refused,
        error=error,
        draft=draft,
    )


async def _failed(
    request: Request,
    visitor: Visitor,
    tenant: TenantRecord,
    role: Role,
    conversation_id: str,
    refused: KindbotError,
    draft: str = "",
) -> HTMLResponse:
    if refused.http_status == 404:
        raise PageError(404, "not_found")
    return await _with_conversation(
        request,
        visitor,
        tenant,
        role,
        conversation_id,
        status=refused.http_status,
        error=refused.message,
        draft=draft,
    )
