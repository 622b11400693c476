"""The bundled local models, served by llama.cpp's OpenAI-compatible server (llama-cpp-python)
on a free loopback port and spoken to through `OpenAIModel`.

    local              the best bundled model installed: qwen-1.5b, else qwen-0.5b, else smollm2
    local:qwen-0.5b    Qwen2.5-Coder-0.5B-Instruct (the one the setup script installs)
    local:qwen-1.5b    Qwen2.5-Coder-1.5B-Instruct (optional: stronger, 2-3 times slower)
    local:smollm2      SmolLM2-135M-Instruct (plumbing only: it does not call tools itself)
    local:PATH.gguf    any GGUF file (used as it is: its hash is the user's business)

The weights come from pinned packages, checked by sha256 (`weights.py`); nothing is downloaded.
The server uses the model's own chat template, tools included, and the models write their
calls as text, which `text_calls` turns into real ones (the history goes back in the model's
own format, so its earlier turns show it the right form). Sampling is held to a grammar of the
offered tools (`grammar.py`) where a call is required (`constrain=True`: on every request), so
that the reply is exactly one well-formed call of one of them, with arguments its schema
admits; with `profile=True`, a small model is shown fewer, coarser tools where its profile says
so (`profiles.py`).

One server per weights file per process, shared by every `LocalModel` of it (sub-agents and
ensemble members too), started at the first request and stopped when the last model using it
is closed or this process exits (the child is tied to its parent's life, so even a killed
parent leaves no server behind). The server runs one request at a time; requests wait their
turn here (so a request's timeout counts its own time, not the queue's). Settings:

- threads: the cores that are idle when the server starts, at least one
  (`OPENSAGE_LOCAL_THREADS` sets them). llama.cpp's threads wait for each other at every step:
  on two idle cores two threads read a prompt twice as fast as one (155 against 78 tokens/s)
  and generate 1.5 times as fast, but on two cores shared with other work they generated 1.5-3
  tokens/s where one thread generated 30;
- context: 16384 tokens for the Qwen models (trained on 32k), 8192 otherwise
  (`OPENSAGE_LOCAL_CTX`);
- prefix reuse: llama.cpp keeps the last conversation's tokens, so each step of an agent
  re-reads only what was added since its last request. The server's own state cache (`cache`)
  stays off: with these vocabularies each entry also copies a 300 MB logits array (0.5-1 s a
  request here) that its size limit does not count;
- `logits_all` off: the server's default computes the logits of every prompt token, which only
  log-probabilities need;
- a reply stops at 2048 tokens unless the settings say otherwise.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import importlib.util
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from opensage.errors import ConfigError
from opensage.models.base import (
    Message,
    ModelResponse,
    ModelSettings,
    ModelUnreachableError,
    ToolSchema,
)
from opensage.models.grammar import grammar_for
from opensage.models.openai_compat import OpenAIModel
from opensage.models.profiles import profile_for
from opensage.models.text_calls import ask
from opensage.models.weights import BUNDLED, DEFAULT, BundledModel, best_installed, prepare

SERVER_HINT = "install the local model server with: pip install 'opensage[local]'"
DEFAULT_MAX_TOKENS = 2048


@dataclass(frozen=True, slots=True)
class Weights:
    """A GGUF file to serve and the spec's name for it."""

    path: Path
    name: str  # "qwen-0.5b", or the path for a user's file
    n_ctx: int = 8192
    # Its calls come as text, Qwen's way (a user's GGUF is assumed to: most tool-trained
    # models write that form); SmolLM2 writes none, and its history stays the OpenAI form.
    text_tool_calls: bool = True


def find_weights(name: str = "") -> Weights:
    """The weights a `local[:NAME]` spec names, checked (see `weights.prepare`)."""
    if name.endswith(".gguf"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise ConfigError(f"local:{name}: no such GGUF file")
        return Weights(path.resolve(), name)
    if not name:
        model = best_installed()
        if model is None:
            raise ConfigError(
                "no bundled local model is installed; for local:"
                f"{DEFAULT}, {BUNDLED[DEFAULT].install_hint()}"
            )
    elif name in BUNDLED:
        model = BUNDLED[name]
    else:
        raise ConfigError(
            f"unknown local model {name!r}; use one of "
            + ", ".join(f"local:{n}" for n in BUNDLED)
            + ", or local:PATH.gguf"
        )
    return Weights(prepare(model), model.name, _context_size(model), model.writes_calls)


def _context_size(model: BundledModel) -> int:
    given = os.environ.get("OPENSAGE_LOCAL_CTX")
    if given:
        try:
            return max(512, int(given))
        except ValueError:
            raise ConfigError(f"OPENSAGE_LOCAL_CTX={given!r} is not a whole number") from None
    return 16384 if model.name.startswith("qwen") else 8192


def find_gguf(name: str = "smollm2") -> Path:
    """Path of a bundled model's checked GGUF file."""
    return find_weights(name).path


def server_threads() -> int:
    """Threads for llama.cpp: see the module's doc."""
    given = os.environ.get("OPENSAGE_LOCAL_THREADS")
    if given:
        try:
            return max(1, int(given))
        except ValueError:
            raise ConfigError(f"OPENSAGE_LOCAL_THREADS={given!r} is not a whole number") from None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    try:
        busy = math.ceil(os.getloadavg()[0] - 0.5)
    except OSError:
        busy = 0
    return max(1, cores - max(0, busy))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        # PR_SET_PDEATHSIG with SIGKILL: on SIGTERM the server first finishes the generation in
        # flight (tens of seconds on a small machine), holding the cores after its parent died.
        libc.prctl(1, signal.SIGKILL)


class LocalServer:
    """One llama.cpp server process, shared by every `LocalModel` of the same weights."""

    _shared: ClassVar[dict[Path, LocalServer]] = {}
    # How long a server nobody uses waits for its next user before it stops: the next task of a
    # benchmark, the next run of a script, which then find it warm (weights loaded, the system
    # prompt's prefix still in its cache) instead of starting again. The process exiting stops
    # it at once (atexit, and the parent-death signal).
    linger_s: ClassVar[float] = 120.0

    def __init__(
        self,
        gguf: Path,
        *,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        cache: bool = False,
        log_path: Path | None = None,
    ):
        self.gguf = gguf
        self.n_ctx = n_ctx
        self.n_threads = n_threads  # None: `server_threads()` when it starts
        self.cache = cache  # the server's state cache (see the module's doc)
        self.log_path = log_path
        self.port = 0
        self.users = 0
        self._idle: threading.Timer | None = None  # the stop scheduled when the last user left
        self._users_lock = threading.Lock()
        self.started_with: list[str] = []  # the last start's command line
        self._proc: subprocess.Popen[bytes] | None = None
        # One server outlives event loops (each run_sync makes one); a lock belongs to one loop.
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def shared(cls, gguf: Path, log_path: Path | None = None, n_ctx: int = 8192) -> LocalServer:
        if gguf not in cls._shared:
            cls._shared[gguf] = cls(gguf, n_ctx=n_ctx, log_path=log_path)
        return cls._shared[gguf]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def turn(self) -> asyncio.Lock:
        """Held while a request is with the server: requests of one event loop wait here, in
        order, rather than in the server's queue (the server runs one at a time either way)."""
        return self._turns.setdefault(asyncio.get_running_loop(), asyncio.Lock())

    def command(self) -> list[str]:
        threads = str(self.n_threads or server_threads())
        return [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.gguf),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            threads,
            "--n_threads_batch",
            threads,
            "--logits_all",
            "False",
            "--cache",
            str(self.cache),
            "--interrupt_requests",
            "False",
            "--verbose",
            "False",
        ]

    async def ensure_started(self, timeout_s: float = 120.0) -> None:
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        async with lock:
            if self.running:
                return
            if importlib.util.find_spec("llama_cpp") is None:
                raise ConfigError(f"llama-cpp-python is not installed; {SERVER_HINT}")
            self.port = _free_port()
            cmd = self.started_with = self.command()
            if self.log_path:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
            log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
            try:
                self._proc = subprocess.Popen(
                    cmd,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    preexec_fn=_die_with_parent,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
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

    def hold(self) -> None:
        """A `LocalModel` uses this server (again): a stop scheduled while it was unused is off."""
        with self._users_lock:
            self.users += 1
            if self._idle is not None:
                self._idle.cancel()
                self._idle = None

    def release(self) -> None:
        """A user is done: the last one leaves the server running `linger_s` more seconds."""
        with self._users_lock:
            self.users -= 1
            if self.users > 0:
                return
            if self.linger_s <= 0:
                self.stop()
                return
            if self._idle is not None:
                self._idle.cancel()
            self._idle = threading.Timer(self.linger_s, self._stop_if_unused)
            self._idle.daemon = True
            self._idle.start()

    def _stop_if_unused(self) -> None:
        with self._users_lock:
            if self.users <= 0:
                self._idle = None
                self.stop()

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
    """`local[:NAME]`: a model on this machine, free and offline. Tool calls the model writes
    as text become real ones (`text_tool_calls`), the first of each reply only (`max_calls`)."""

    def __init__(
        self,
        name: str = "",
        *,
        log_path: Path | None = None,
        timeout_s: float = 600.0,
        text_tool_calls: bool | None = None,
        max_calls: int | None = 1,
        stop_after_call: bool = False,
        retry_restated: bool = True,
        seed: int | None = None,
        constrain: bool | None = None,
        profile: bool = False,
    ):
        weights = find_weights(name)
        self.server = LocalServer.shared(weights.path, log_path=log_path, n_ctx=weights.n_ctx)
        self.server.hold()
        self._name = weights.name
        self._timeout_s = timeout_s
        # None: as the weights do (see Weights).
        self.text_tool_calls = (
            weights.text_tool_calls if text_tool_calls is None else text_tool_calls
        )
        self.max_calls = max_calls
        self.retry_restated = retry_restated  # see text_calls.ask
        # The server draws each request's sampling seed from the last one, starting from the
        # same seed in every new server: runs in fresh processes repeat each other. A seed
        # here makes this model's requests use seed, seed + 1, ... instead.
        self.seed = seed
        self._requests = 0
        self.stop_after_call = stop_after_call and self.text_tool_calls and max_calls == 1
        # Sampling held to a grammar of the offered tools' calls (grammar.py): True, whenever
        # tools are offered; None, only where a call is required (the server takes "required"
        # for "auto"), and only for a model that writes its calls as text. Measured on the
        # 0.5B (benchmarks/local_tool_use.py), the grammar on every request made every call
        # well-formed but solved no more tasks: its failures are wrong paths and repeated
        # calls, not malformed ones.
        self.constrain = constrain

        # What the model is shown of the tools, where its size calls for less (profiles.py). Off
        # by default: shown only `finish` and a bare run_command, the 0.5B answered the README's
        # first task ("run uname -sr, say which kernel...") with a made-up kernel, running nothing.
        self.profile = profile_for(weights.name) if profile else None
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
                self._name,
                base_url=self.server.base_url,
                price=(0.0, 0.0),
                timeout_s=self._timeout_s,
                spec=self.name,
            )
        settings = settings or ModelSettings()
        if settings.max_output_tokens is None:
            settings = replace(settings, max_output_tokens=DEFAULT_MAX_TOKENS)
        if self.profile is not None:
            tools = self.profile.shown(tools, settings.tool_choice)
        client, extra = self._client, self._extra_body(tools, settings)
        if extra and "grammar" in extra and settings.tool_choice not in ("auto", "required"):
            # One tool named: the grammar forces it, and the server must not apply its own.
            settings = replace(settings, tool_choice="required")

        async def send(sent: list[Message]) -> ModelResponse:
            async with self.server.turn():
                # Set in turn: agents sharing this model may offer different tools.
                client.extra_body = extra
                return await client.request(sent, tools, settings)

        if not self.text_tool_calls:
            return await send(list(messages))
        return await ask(send, messages, tools, settings, self.max_calls, self.retry_restated)

    def _extra_body(
        self, tools: Sequence[ToolSchema], settings: ModelSettings
    ) -> dict[str, Any] | None:
        """The request's fields beyond OpenAI's: the stop, seed and grammar settings."""
        extra: dict[str, Any] = {}
        if self.stop_after_call:
            # Only the first call of a reply is used; stopping once it is written saves the
            # tokens after it, but loses the call after a restated one (see split_reply).
            extra["stop"] = ["</tool_call>"]
        if self.seed is not None:
            extra["seed"] = self.seed + self._requests
            self._requests += 1
        grammar = (
            grammar_for(tools, settings.tool_choice, auto=bool(self.constrain))
            if self.constrain or (self.constrain is None and self.text_tool_calls)
            else None
        )
        if grammar is not None:
            extra["grammar"] = grammar
        return extra or None

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._client is not None:
            await self._client.aclose()
        self.server.release()
