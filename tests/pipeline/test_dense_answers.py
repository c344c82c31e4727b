"""With ``KINDBOT_EMBEDDING_MODEL`` set, the pipeline's knowledge base also learns from meaning.

Needs the ``dense`` extra and ``KINDBOT_TEST_EMBEDDING_MODEL`` (see
``tests/unit/dialogue/test_dense_model.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from tests.support.clock import FakeClock
from tests.support.databases import require_env
from tests.unit.dialogue.test_dense_model import MODEL_ENV

from kindbot.bootstrap import Container, open_container
from kindbot.bundles.apply import apply_bundle
from kindbot.bundles.tenants import approve_tenant
from kindbot.core.events import InboundEvent, InboundKind
from kindbot.settings import Settings

FAQ = (
    "question,answer,similar\n"
    "How do I cancel my subscription?,Go to Settings > Plan > Cancel.,"
    "cancel subscription|please cancel the subscription|can you cancel my subscription\n"
    "I forgot my password,Use the reset link on the sign-in page.,"
    "reset my password|password does not work|change my password\n"
    "My parcel is late,Parcels take 3-5 working days.,"
    "the parcel has not arrived|parcel still not here|why is my parcel late\n"
    "What are your opening hours?,We are open 9:00-18:00.,"
    "when are you open|opening times|what time do you close\n"
)


@pytest.fixture
async def dense_container(
    settings: Settings, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[Container]:
    model = require_env(MODEL_ENV)
    (tmp_path / "faq.csv").write_text(FAQ, encoding="utf-8")
    bundle = tmp_path / "shop.yaml"
    bundle.write_text(
        "tenant: {slug: meaning, name: Meaning Shop, industry: retail, language: en}\n"
        "channels:\n  - {id: web, type: webchat}\n"
        "knowledge:\n  - {file: faq.csv}\n"
        "kb: {threshold: 0.05}\n",
        encoding="utf-8",
    )
    wired = replace(settings, embedding_model=model)
    async with open_container(wired, clock=clock, auto_migrate=True) as opened:
        report = await apply_bundle(opened.store, opened.box, bundle, clock.now())
        await approve_tenant(
            opened.store, report.tenant_slug, reason="test", actor="tests", now=clock.now()
        )
        yield opened


async def test_a_paraphrase_without_shared_words_is_answered(dense_container: Container) -> None:
    event = InboundEvent(
        channel_public_id="meaning.web",
        sender="visitor-1",
        kind=InboundKind.TEXT,
        text="I cannot log in",
        idempotency_key="m1",
        received_at=dense_container.clock.now(),
    )
    result = await dense_container.pipeline.feed(event, sync_grace=timedelta(seconds=30))
    assert result.replies, "the bot answered"
    assert "reset link" in result.replies[0].text  # words alone rank "cancel" first
