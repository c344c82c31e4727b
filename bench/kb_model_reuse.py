"""What a second server process pays for a knowledge base another process already fitted.

Applies a bundle with a ``--entries`` FAQ (question + 2 similar phrasings each,
``wechat_oa_throughput.write_bundle``) to a fresh SQLite data dir (``apply``
stores the sentence vectors and the fitted model), then, in this process, times
two full builds of the tenant's index with fresh caches and fresh sentence
encoders (as two new processes would have): one after the stored model was
removed (it fits: what every process paid before models were stored), one with
the stored model. CPU seconds count every thread of this process.

    .venv/bin/python bench/kb_model_reuse.py --entries 1000
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete

from kindbot.bootstrap import open_container, sentence_encoder
from kindbot.pipeline.decide.knowledge import KnowledgeCache
from kindbot.settings import Settings
from kindbot.storage.schema import kb_models
from kindbot.storage.sql_store import SqlStore
from wechat_oa_throughput import applied_bundle


async def timed_builds(data_dir: Path) -> None:
    settings = Settings.from_env({"KINDBOT_DATA_DIR": str(data_dir)})
    async with open_container(settings) as container:
        store = container.store
        async with store.transaction(readonly=True) as tx:
            tenant = await tx.tenants.get_by_slug("bench")
        assert tenant is not None
        await container.warm_up()  # the sentence model's weights, read once per process
        assert isinstance(store, SqlStore)
        async with store.engine.begin() as conn:
            await conn.execute(delete(kb_models))
        for label in ("no stored model (fits)", "stored model (another process fitted it)"):
            cache = KnowledgeCache(store, encoder=sentence_encoder(settings))
            wall, cpu = time.perf_counter(), time.process_time()
            index = await cache.index_for(tenant.id)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(
                f"{label}: {wall:.2f} s wall, {cpu:.2f} s CPU, fitted here: {cache.fits}, "
                f"{len(index)} entries, classifier: {index.learned}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1000)
    args = parser.parse_args()
    kindbot_exe = str(Path(sys.executable).parent / "kindbot")
    with tempfile.TemporaryDirectory() as tmp:
        env, _ = applied_bundle(Path(tmp), args.entries, kindbot_exe)
        asyncio.run(timed_builds(Path(env["KINDBOT_DATA_DIR"])))


if __name__ == "__main__":
    main()
