"""Per-model profiles: what a small local model is shown of an agent's tools.

A profile is a plain TOML file next to this module, named after the model (`qwen-0.5b.toml`),
that users can read and copy:

    hide_tools = ["apply_patch", "debug"]   # kit tools the model is not shown
    optional_arguments = false              # show only each tool's required arguments

The tools a profile hides can still be called (the agent offers them); the model just does not
see them, nor, with a grammar (see grammar.py), write them. `finish` and the tool a request
forces are never hidden.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from opensage.errors import ConfigError
from opensage.models.base import ToolSchema

FOLDER = Path(__file__).parent / "profiles"


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    hide_tools: frozenset[str] = frozenset()
    optional_arguments: bool = True

    def shown(self, tools: Sequence[ToolSchema], tool_choice: str = "auto") -> list[ToolSchema]:
        """The tools as the model is to see them."""
        kept = {"finish", tool_choice}
        return [
            t if self.optional_arguments else required_only(t)
            for t in tools
            if t.name not in self.hide_tools or t.name in kept
        ]


def required_only(tool: ToolSchema) -> ToolSchema:
    """The tool's schema with its required arguments only (the others keep their defaults)."""
    properties = tool.parameters.get("properties")
    required = tool.parameters.get("required") or []
    if not isinstance(properties, dict) or set(properties) <= set(required):
        return tool
    kept = {k: v for k, v in properties.items() if k in required}
    return replace(tool, parameters={**tool.parameters, "properties": kept})


@cache
def profile_for(model: str) -> Profile | None:
    """The profile of a bundled model (`qwen-0.5b`), or None when it has none (a user's GGUF
    file, named by its path, has none)."""
    path = FOLDER / f"{model}.toml"
    if Path(model).name != model or not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text())
        return Profile(
            model,
            frozenset(str(n) for n in data.get("hide_tools", ())),
            bool(data.get("optional_arguments", True)),
        )
    except (tomllib.TOMLDecodeError, TypeError) as exc:
        raise ConfigError(f"the model profile {path} is not valid: {exc}") from None
