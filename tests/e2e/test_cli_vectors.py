"""``kindbot apply`` and ``kindbot kb import`` encode the knowledge base's new texts
and store their vectors, so a server started afterwards encodes none of them.

Runs the real command (the default multilingual encoder, its real weights) on
SQLite, then opens the same data directory in-process with a counting encoder
of the same name.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.test_cli_end_to_end import (
    DEMO_SOURCE,
    TENANT,
    query_db,
    succeeded,
    write_csv,
)
from tests.support.cli import kindbot_in_thread
from tests.support.encoders import CountingEncoder

from kindbot.bootstrap import open_container
from kindbot.pipeline.decide.knowledge import KnowledgeCache
from kindbot.pipeline.decide.multilingual import MultilingualEncoder
from kindbot.settings import Settings

ENCODED = re.compile(r"sentence vectors: (\d+) texts encoded and stored")


def stored_rows(data_dir: Path) -> int:
    return int(query_db(data_dir, "SELECT count(*) FROM kb_vectors")[0][0])


async def test_the_commands_store_the_vectors_a_server_then_reads(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    applied = succeeded(
        await kindbot_in_thread("apply", DEMO_SOURCE / "bundle.yaml", data_dir=data_dir)
    )
    found = ENCODED.search(applied.stdout)
    assert found, applied.stdout
    assert stored_rows(data_dir) == int(found.group(1)) > 0

    extra = write_csv(
        tmp_path / "extra.csv",
        [
            ["id", "question", "answer", "similar"],
            ["gift-card", "可以用礼品卡吗？", "可以，结账时输入卡号即可。", "礼品卡怎么用"],
        ],
    )
    before = stored_rows(data_dir)
    imported = succeeded(
        await kindbot_in_thread("kb", "import", extra, "--tenant", TENANT, data_dir=data_dir)
    )
    found = ENCODED.search(imported.stdout)
    assert found, imported.stdout
    assert 1 <= int(found.group(1)) <= 3  # the new entry's texts only
    assert stored_rows(data_dir) == before + int(found.group(1))

    counting = CountingEncoder(MultilingualEncoder())
    settings = Settings.from_env({"KINDBOT_DATA_DIR": str(data_dir)})
    async with open_container(settings) as server:
        async with server.store.transaction(readonly=True) as tx:
            tenant = await tx.tenants.get_by_slug(TENANT)
        assert tenant is not None
        await KnowledgeCache(server.store, encoder=counting).index_for(tenant.id)
    assert counting.asked == []
