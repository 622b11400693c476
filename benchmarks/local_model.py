"""What serving a bundled model through OpenSage costs, and what prefix reuse saves.

1. Throughput: the same chat request through OpenSage (LocalModel: the llama.cpp server on
   loopback, HTTP, the OpenAI SDK, the text tool-call parser) and through llama-cpp-python in
   this process (`Llama.create_chat_completion`, same weights, threads and context), in turns:
   prompt tokens per second (a long prompt, one output token, a fresh prefix each time) and
   generated tokens per second (a short prompt, 128 tokens at temperature 0). Target: ≥ 0.9×.
2. A 10-step agent run (one tool called each step, its result growing the context as a real
   run's do) with the server reusing the conversation's prefix, and without (each request
   starts with a different token, so nothing can be reused); and the same with the server's
   state cache (`cache`) on, to show what it costs.

Prints a table and writes benchmarks/results/local_model.json.

    .venv/bin/python benchmarks/local_model.py [--model qwen-0.5b] [--repeats 3] [--steps 10]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import secrets
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
TOPIC = (
    "Explain how a hash map handles collisions, with separate chaining and open "
    "addressing, and when each is the better choice. "
)
LONG_PROMPT = [
    {"role": "system", "content": "You are a careful technical writer."},
    {"role": "user", "content": TOPIC * 30 + "Answer in one word: ready?"},
]
SHORT_PROMPT = [
    {"role": "system", "content": "You are a careful technical writer."},
    {"role": "user", "content": "Write a long, detailed essay: " + TOPIC},
]


def fresh(messages: list[dict], nonce: str) -> list[dict]:
    """The messages with a different first token, so that no cached prefix applies."""
    first = {**messages[0], "content": f"[{nonce}] {messages[0]['content']}"}
    return [first, *messages[1:]]


def raw_llama(path: Path, n_ctx: int, threads: int):
    from llama_cpp import Llama

    return Llama(
        str(path),
        n_ctx=n_ctx,
        n_threads=threads,
        n_threads_batch=threads,
        logits_all=False,
        verbose=False,
    )


def raw_request(llm, messages: list[dict], max_tokens: int) -> tuple[float, dict]:
    started = time.perf_counter()
    reply = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0)
    return time.perf_counter() - started, reply["usage"]


async def opensage_request(model, messages: list[dict], max_tokens: int) -> tuple[float, dict]:
    from opensage.models.base import Message, ModelSettings

    sent = [Message(m["role"], m["content"]) for m in messages]
    started = time.perf_counter()
    reply = await model.request(
        sent, [], ModelSettings(temperature=0, max_output_tokens=max_tokens)
    )
    return time.perf_counter() - started, {
        "prompt_tokens": reply.usage.input_tokens,
        "completion_tokens": reply.usage.output_tokens,
    }


async def throughput(spec: str, repeats: int) -> dict[str, object]:
    from opensage.models.local import LocalModel, server_threads

    threads = server_threads()
    os.environ["OPENSAGE_LOCAL_THREADS"] = str(threads)  # the same for both sides
    model = LocalModel(spec)
    path, n_ctx = model.server.gguf, model.server.n_ctx
    await model.server.ensure_started()
    llm = raw_llama(path, n_ctx, threads)
    rows: dict[str, list[float]] = {
        "raw_prompt": [],
        "opensage_prompt": [],
        "raw_gen": [],
        "opensage_gen": [],
    }
    tokens: dict[str, int] = {}
    try:
        await opensage_request(model, SHORT_PROMPT, 4)  # warm both up
        raw_request(llm, SHORT_PROMPT, 4)
        for i in range(repeats):
            for side in ("raw", "opensage") if i % 2 == 0 else ("opensage", "raw"):
                prompt = fresh(LONG_PROMPT, secrets.token_hex(4))
                if side == "raw":
                    took, usage = raw_request(llm, prompt, 1)
                else:
                    took, usage = await opensage_request(model, prompt, 1)
                rows[f"{side}_prompt"].append(usage["prompt_tokens"] / took)
                tokens["prompt"] = usage["prompt_tokens"]
                short = fresh(SHORT_PROMPT, "x")  # the same each time: the prefix is reused
                if side == "raw":
                    took, usage = raw_request(llm, short, 128)
                else:
                    took, usage = await opensage_request(model, short, 128)
                rows[f"{side}_gen"].append(usage["completion_tokens"] / took)
                tokens[f"{side}_gen"] = usage["completion_tokens"]
    finally:
        await model.aclose()
        del llm
        gc.collect()
    med = {k: statistics.median(v) for k, v in rows.items()}
    return {
        "threads": threads,
        "n_ctx": n_ctx,
        "tokens": tokens,
        "runs": rows,
        "prompt_tok_s": {
            "raw": med["raw_prompt"],
            "opensage": med["opensage_prompt"],
            "ratio": med["opensage_prompt"] / med["raw_prompt"],
        },
        "gen_tok_s": {
            "raw": med["raw_gen"],
            "opensage": med["opensage_gen"],
            "ratio": med["opensage_gen"] / med["raw_gen"],
        },
    }


class NoPrefix:
    """The model, sent each request with a different first token: no prefix can be reused."""

    def __init__(self, inner):
        self.inner = inner

    @property
    def name(self):
        return self.inner.name

    async def request(self, messages, tools, settings=None):
        first = replace(messages[0], content=f"[{secrets.token_hex(4)}] {messages[0].content}")
        return await self.inner.request([first, *messages[1:]], tools, settings)

    async def aclose(self):
        await self.inner.aclose()


async def agent_run(
    spec: str, steps: int, reuse: bool, server_cache: bool = False
) -> dict[str, object]:
    from opensage import Agent, ModelSettings, tool
    from opensage.models.local import LocalModel, LocalServer

    @tool
    def read_page(page: int) -> str:
        """Read one page of the design notes."""
        return (
            f"Page {page}. " + "The cache keeps recently used entries in memory and "
            "evicts the least recently used one when it is full. " * 4
        )

    LocalServer._shared.clear()  # a server of its own, with the settings asked for
    local = LocalModel(spec)
    local.server.cache = server_cache
    model = local if reuse else NoPrefix(local)
    times: list[float] = []

    class Timed:
        name = local.name

        async def request(self, messages, tools, settings=None):
            started = time.perf_counter()
            reply = await model.request(messages, tools, settings)
            times.append(time.perf_counter() - started)
            return reply

        async def aclose(self):
            await model.aclose()

    timed = Timed()
    await local.server.ensure_started()
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as work:
            result = await Agent(
                "reader",
                "Read the design notes page by page with read_page.",
                model=timed,
                tools=[read_page],
                max_steps=steps,
                settings=ModelSettings(
                    tool_choice="read_page", temperature=0, max_output_tokens=24
                ),
            ).run("Read pages 1 to 10 of the design notes, one per step.", workdir=work)
    finally:
        await timed.aclose()
    took = time.perf_counter() - started
    return {
        "seconds": took,
        "steps": result.steps,
        "step_seconds": times,
        "input_tokens": result.usage.input_tokens,
        "output_tokens": result.usage.output_tokens,
    }


def table(rows: list[tuple[str, str, str, str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen-0.5b", help="a local model: NAME or PATH.gguf")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("OPENSAGE_HOME", tempfile.mkdtemp(prefix="opensage-bench-"))
    load = os.getloadavg()[0]
    tp = await throughput(args.model, args.repeats)
    with_reuse = await agent_run(args.model, args.steps, reuse=True)
    without = await agent_run(args.model, args.steps, reuse=False)
    cached = await agent_run(args.model, args.steps, reuse=True, server_cache=True)
    p, g = tp["prompt_tok_s"], tp["gen_tok_s"]
    rows = [
        ("measure", "baseline", "OpenSage", "ratio"),
        (
            "prompt tok/s (raw llama-cpp-python vs OpenSage)",
            f"{p['raw']:.0f}",
            f"{p['opensage']:.0f}",
            f"{p['ratio']:.2f}x",
        ),
        (
            "generation tok/s (raw vs OpenSage)",
            f"{g['raw']:.1f}",
            f"{g['opensage']:.1f}",
            f"{g['ratio']:.2f}x",
        ),
        (
            f"{args.steps}-step agent run, s (no prefix reuse vs reuse)",
            f"{without['seconds']:.1f}",
            f"{with_reuse['seconds']:.1f}",
            f"{without['seconds'] / with_reuse['seconds']:.2f}x faster",
        ),
        (
            f"{args.steps}-step run, s (reuse vs reuse + server state cache)",
            f"{with_reuse['seconds']:.1f}",
            f"{cached['seconds']:.1f}",
            f"{cached['seconds'] / with_reuse['seconds']:.2f}x the time",
        ),
    ]
    print(
        f"local:{args.model}, {tp['threads']} thread(s), n_ctx {tp['n_ctx']}, "
        f"load average {load:.1f} on {os.cpu_count()} cores"
    )
    print(table(rows))
    RESULTS.mkdir(exist_ok=True)
    out = {
        "model": args.model,
        "load_average": load,
        "cores": os.cpu_count(),
        "throughput": tp,
        "agent_run": {"reuse": with_reuse, "no_reuse": without, "reuse_and_server_cache": cached},
    }
    (RESULTS / "local_model.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
