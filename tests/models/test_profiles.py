"""Per-model profiles: what a small local model is shown of an agent's tools, read from the
plain file next to the models package, and applied by the local adapter to what it sends."""

from __future__ import annotations

import re

from opensage import Agent, tool
from opensage.models.base import ToolSchema
from opensage.models.profiles import Profile, profile_for

from .test_grammar import FINISH, VIEW, local_model_on, rule, server  # noqa: F401
from .test_openai_adapter import completion


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


PATCH = ToolSchema("apply_patch", "Apply a diff.", {"type": "object", "properties": {}})


def test_the_small_models_profile_is_read_from_its_file(tmp_path):
    small = profile_for("qwen-0.5b")
    assert small is not None and {"apply_patch", "debug", "undo_edit"} <= small.hide_tools
    assert not small.optional_arguments
    assert profile_for("qwen-1.5b") is None  # shown everything
    (tmp_path / "m.gguf.toml").write_text('hide_tools = ["view"]\n')
    assert profile_for(str(tmp_path / "m.gguf")) is None  # a user's file: no profile


def test_a_profile_hides_tools_and_optional_arguments_but_never_finish_or_the_forced_tool():
    profile = Profile("p", frozenset({"apply_patch", "finish", "view"}), optional_arguments=False)
    shown = profile.shown([VIEW, PATCH, FINISH])
    assert [t.name for t in shown] == ["finish"]
    (view,) = profile.shown([VIEW, PATCH], tool_choice="view")
    assert list(view.parameters["properties"]) == ["path"]  # view_range left out
    assert VIEW.parameters["properties"].keys() == {"path", "view_range"}  # not changed
    everything = Profile("p").shown([VIEW, PATCH, FINISH])
    assert everything == [VIEW, PATCH, FINISH]


def test_the_local_adapter_shows_the_model_its_profiles_tools(
    server,  # noqa: F811
    home,
    tmp_path,
    monkeypatch,
):
    profile = Profile("small", frozenset({"apply_patch"}), optional_arguments=False)
    monkeypatch.setattr("opensage.models.local.profile_for", lambda name: profile)
    model = local_model_on(server, tmp_path, monkeypatch, constrain=True, profile=True)

    @tool
    def apply_patch(patch: str) -> str:
        """Apply a diff."""
        return "applied"

    @tool
    def scale(x: int, by: int = 2) -> int:
        """Scale a number."""
        return x * by

    server.reply(completion('<tool_call>\n{"name": "scale", "arguments": {"x": 3}}\n</tool_call>'))
    server.reply(completion('<tool_call>\n{"name": "finish", "arguments": {"answer": "6"}}\n'))
    result = Agent(
        "scaler", "Use the tools.", model=model, tools=[apply_patch, scale], max_steps=3
    ).run_sync("Scale 3.")
    assert result.answer == "6"
    body = server.requests[0].body
    shown = {t["function"]["name"]: t["function"]["parameters"] for t in body["tools"]}
    assert list(shown) == ["scale", "finish"]
    assert list(shown["scale"]["properties"]) == ["x"]
    assert re.findall(r'\\"(\w+)\\", \\"arguments', rule(body["grammar"], "object-call")) == list(
        shown
    )
