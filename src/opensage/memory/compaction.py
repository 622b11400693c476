"""Context compaction: when an agent's context passes a size, its older steps are folded into a
summary (written by the agent's own model) that names the events it covers. The full record
stays in the event log, and so in the execution graph."""

from __future__ import annotations

from importlib import resources

from opensage.core.budget import BudgetExceeded
from opensage.core.loop import AgentLoop
from opensage.models.base import Message, ModelSettings

SUMMARY_INPUT_CHARS = 60_000  # what the summarizer is shown of the folded steps at most


class Compactor:
    def __init__(self, at_tokens: int, keep_recent: int = 6):
        self.at_tokens = at_tokens
        self.keep_recent = keep_recent  # the latest messages stay as they are

    async def __call__(self, loop: AgentLoop) -> None:
        if loop.context_tokens() < self.at_tokens:
            return
        cut = len(loop.messages) - self.keep_recent
        while cut > loop.prefix and loop.messages[cut].role == "tool":
            cut -= 1  # never part a tool call from its results
        if cut - loop.prefix < max(2, self.keep_recent):
            return  # too little to fold: fold again only once as much is new as is kept
        older = loop.messages[loop.prefix : cut]
        summary, usage = await self._summarize(loop, older)
        loop.fold(cut, summary, {"summary_usage": usage})

    async def _summarize(self, loop: AgentLoop, older: list[Message]) -> tuple[str, dict[str, int]]:
        """The agent's model summarizes, in a side request of its conversation (charged to it,
        recorded under it); BudgetExceeded if its budget has nothing left for that."""
        record = "\n".join(_line(m) for m in older)[-SUMMARY_INPUT_CHARS:]
        prompt = (resources.files("opensage") / "prompts" / "compaction.md").read_text()
        ctx = loop.ctx.for_call(loop, loop.conv)
        try:
            reply = await ctx.side_request(
                [Message("system", prompt), Message("user", record)],
                "compaction",
                settings=ModelSettings(temperature=0),
            )
        except BudgetExceeded:
            raise
        except Exception:  # no summary from the model: keep an extract rather than nothing
            return record[-4000:], {}
        return reply.message.content.strip() or record[-4000:], reply.usage.to_dict()


def _line(message: Message) -> str:
    calls = "; ".join(f"{c.name}({c.arguments})" for c in message.tool_calls)
    text = f"{message.content} {calls}".strip()
    return f"{message.role}: {text}"
