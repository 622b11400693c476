"""The model-based bench agents, one plain file each: `swe` (swe.py), `swe-guided` (guided.py,
for small local models), `terminal` (terminal.py) and `poc` (poc.py), built on `KitAgent`
(base.py) with the benchmark run's lessons (lessons.py). Copy one of the files, change it, and
run it with `--agent path/to/copy.py:CLASS`.
"""

from __future__ import annotations

from opensage.bench.kit_agents.base import KitAgent
from opensage.bench.kit_agents.guided import SweGuidedAgent
from opensage.bench.kit_agents.poc import PocAgent
from opensage.bench.kit_agents.swe import SweAgent
from opensage.bench.kit_agents.terminal import TerminalAgent

# The agents `--agent NAME` selects.
AGENTS: dict[str, type[KitAgent]] = {
    a.name: a for a in (SweAgent, SweGuidedAgent, TerminalAgent, PocAgent)
}

__all__ = ["AGENTS", "KitAgent", "PocAgent", "SweAgent", "SweGuidedAgent", "TerminalAgent"]
