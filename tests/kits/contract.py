"""What the kits' tests share: checking a kit's tools against its contract (names, arguments in
order, defaults), and reading back what each tool call gave the model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opensage.core.events import EventLog

REQUIRED = object()  # a contract's argument without a default


def check_contract(schemas: dict[str, dict[str, Any]], contract: dict[str, dict[str, Any]]) -> None:
    """`schemas` (each tool's parameters, by name, in the kit's order) are the contract's: the
    same tools in the same order, each with the contract's arguments in order, those without a
    default required, the others with the contract's default."""
    assert list(schemas) == list(contract)
    for name, arguments in contract.items():
        params = schemas[name]
        assert list(params["properties"]) == list(arguments), name
        required = [a for a, default in arguments.items() if default is REQUIRED]
        assert sorted(params.get("required", [])) == sorted(required), name
        for argument, default in arguments.items():
            if default is not REQUIRED:
                assert params["properties"][argument].get("default") == default, (name, argument)


def results(home: Path, run_id: str) -> list[tuple[str, bool, str]]:
    """Each tool call's (name, ok, what the model was given), in order."""
    log = EventLog.open(home / "events.db")
    given = log.messages_by_event(run_id)
    return [
        (e.data["name"], e.data["ok"], given[e.id].content)
        for e in log.events(run_id, ("tool_result",))
    ]
