"""SQL repository of multi-turn flows: definitions per tenant, state per conversation."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Row, bindparam, delete, select, update

from kindbot.core.records.flows import ConversationFlow, FlowDefinitions, FlowState
from kindbot.storage.executor import Executor
from kindbot.storage.revisions import bump_revision
from kindbot.storage.schema import flow_states, tenant_flows
from kindbot.storage.sqlutil import insert_ignoring_conflict

_DEFINITIONS = select(tenant_flows).where(tenant_flows.c.tenant_id == bindparam("tenant_id"))
_STATE = select(flow_states).where(flow_states.c.conversation_id == bindparam("conversation_id"))


class SqlFlows:
    """:class:`kindbot.core.ports.flows.FlowRepository` over SQL.

    Writes are an insert-or-ignore followed by an update, so two writers of
    the same row never raise; the later write wins (the pipeline serialises a
    conversation's messages, so that is the later message).
    """

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def definitions(self, tenant_id: str) -> FlowDefinitions | None:
        row = (await self._conn.execute(_DEFINITIONS, {"tenant_id": tenant_id})).first()
        if row is None:
            return None
        return FlowDefinitions(row.flows_json, row.endpoints_sealed, row.updated_at)

    async def replace_definitions(
        self, tenant_id: str, definitions: FlowDefinitions | None
    ) -> bool:
        """Store (or remove) the tenant's flows; the tenant's revision moves on."""
        if definitions is None:
            removed = delete(tenant_flows).where(tenant_flows.c.tenant_id == tenant_id)
            if not (await self._conn.execute(removed)).rowcount:
                return False
            await bump_revision(self._conn, tenant_id)
            return True
        await bump_revision(self._conn, tenant_id)
        values = {
            "flows_json": definitions.flows_json,
            "endpoints_sealed": definitions.endpoints_sealed,
            "updated_at": definitions.updated_at,
        }
        if await insert_ignoring_conflict(
            self._conn, tenant_flows, {"tenant_id": tenant_id, **values}, ["tenant_id"]
        ):
            return True
        await self._conn.execute(
            update(tenant_flows).where(tenant_flows.c.tenant_id == tenant_id).values(**values)
        )
        return True

    async def state(self, conversation_id: str) -> FlowState | None:
        params = {"conversation_id": conversation_id}
        row = (await self._conn.execute(_STATE, params)).first()
        return None if row is None else _state(row)

    async def save_state(
        self, *, tenant_id: str, conversation_id: str, contact_id: str, state: FlowState
    ) -> None:
        values = {
            "flow": state.flow,
            "state": state.state,
            "slots_json": json.dumps(dict(state.slots), ensure_ascii=False, sort_keys=True),
            "retries": state.retries,
            "language": state.language,
            "updated_at": state.updated_at,
        }
        identity = {
            "conversation_id": conversation_id,
            "tenant_id": tenant_id,
            "contact_id": contact_id,
        }
        if await insert_ignoring_conflict(
            self._conn, flow_states, {**identity, **values}, ["conversation_id"]
        ):
            return
        await self._conn.execute(
            update(flow_states)
            .where(flow_states.c.conversation_id == conversation_id)
            .values(**values)
        )

    async def clear_state(self, conversation_id: str) -> bool:
        removed = delete(flow_states).where(flow_states.c.conversation_id == conversation_id)
        return bool((await self._conn.execute(removed)).rowcount)

    async def states_of_tenant(self, tenant_id: str, limit: int) -> list[ConversationFlow]:
        query = (
            select(flow_states)
            .where(flow_states.c.tenant_id == tenant_id)
            .order_by(flow_states.c.updated_at.desc(), flow_states.c.conversation_id)
            .limit(limit)
        )
        return [
            ConversationFlow(row.conversation_id, row.contact_id, _state(row))
            for row in await self._conn.execute(query)
        ]


def _state(row: Row[Any]) -> FlowState:
    slots = json.loads(row.slots_json)
    return FlowState(
        flow=row.flow,
        state=row.state,
        slots=tuple(sorted((str(k), str(v)) for k, v in slots.items())),
        retries=int(row.retries),
        language=row.language,
        updated_at=row.updated_at,
    )
