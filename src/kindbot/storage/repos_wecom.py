"""SQL repositories for the WeCom channel: 微信客服 sync cursors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from kindbot.storage.executor import Executor
from kindbot.storage.schema import kf_cursors
from kindbot.storage.sqlutil import insert_ignoring_conflict


class SqlKfCursors:
    """:class:`kindbot.core.ports.platform.KfCursorRepository` over SQL.

    ``save`` is an insert-or-ignore followed by an update, so two processes
    saving the first cursor of an account at once never raise; the later
    write wins (an older cursor only means re-pulling messages the pipeline
    then deduplicates).
    """

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def get(self, channel_id: str, open_kfid: str) -> str | None:
        query = select(kf_cursors.c.cursor).where(
            kf_cursors.c.channel_id == channel_id, kf_cursors.c.open_kfid == open_kfid
        )
        value = (await self._conn.execute(query)).scalar_one_or_none()
        return None if value is None else str(value)

    async def save(
        self, *, tenant_id: str, channel_id: str, open_kfid: str, cursor: str, now: datetime
    ) -> None:
        values = {
            "tenant_id": tenant_id,
            "channel_id": channel_id,
            "open_kfid": open_kfid,
            "cursor": cursor,
            "updated_at": now,
        }
        if await insert_ignoring_conflict(
            self._conn, kf_cursors, values, ["channel_id", "open_kfid"]
        ):
            return
        await self._conn.execute(
            update(kf_cursors)
            .where(kf_cursors.c.channel_id == channel_id, kf_cursors.c.open_kfid == open_kfid)
            .values(cursor=cursor, updated_at=now)
        )
