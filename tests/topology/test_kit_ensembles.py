"""Ensemble members get the work-dir kits set up again for their own copies: a kit that is not
one of OpenSage's own, and knows nothing of ensembles, cannot write to the real work dir."""

import json
from contextlib import asynccontextmanager

from opensage import Agent, Kit, RunContext, Tool
from opensage.topology.team import JUDGE

from .conftest import call, team_model


class Stamps(Kit):
    """A third party's kit: its tool writes the work dir it was set up for."""

    name = "stamps"

    def __init__(self):
        self.sessions: list[tuple[str, str]] = []  # (work dir, how the session ended)

    @asynccontextmanager
    async def session(self, ctx: RunContext):
        target = ctx.workdir / "stamp.txt"

        def stamp(text: str) -> str:
            """Stamp the work dir.

            Args:
                text: what to write.
            """
            target.write_text(text)
            return f"stamped {text!r}"

        self.sessions.append((str(ctx.workdir), "open"))
        yield [Tool(stamp)]
        self.sessions.append((str(ctx.workdir), "ended"))


def test_a_member_using_a_third_party_work_dir_kit_writes_only_its_own_copy(home, tmp_path):
    (tmp_path / "stamp.txt").write_text("original")
    members: dict[int, int] = {}
    real_seen: list[str] = []  # the real stamp.txt, as members and the judge saw it

    def member(messages):
        index = members.setdefault(id(messages), len(members))  # one per conversation
        if len(messages) == 2:
            return call("stamp", text=f"member {index}")
        real_seen.append((tmp_path / "stamp.txt").read_text())
        return f"stamped as member {index}"

    def judge(messages):
        real_seen.append((tmp_path / "stamp.txt").read_text())
        return '{"choice": 1, "reason": "the second is better"}'

    kit = Stamps()
    model = team_model(
        {
            "ROOT": [
                call("create_agent", name="stamper", instructions="STAMP", tools=["stamp"]),
                call("ensemble", task="stamp it", agent="stamper", n=2, select="judge"),
                lambda m: call("finish", answer=m[-1].content),
            ],
            "STAMP": [member, member],
            JUDGE: [judge],
        }
    )
    result = Agent("root", "ROOT", model=model, kits=["topology", kit]).run_sync(
        "go", workdir=tmp_path
    )
    report = json.loads(result.answer)
    assert report["selected"] == 1 and report["applied"] == {
        "changed": ["stamp.txt"],
        "deleted": [],
    }
    chosen = report["answer"].removeprefix("stamped as ")
    assert real_seen == ["original"] * 3  # untouched while members worked and were judged
    assert (tmp_path / "stamp.txt").read_text() == chosen  # the chosen one's, and only it
    # The run's own session, then one per member, on its copy, ended when the member was.
    copies = [w for w, how in kit.sessions if how == "open" and w != str(tmp_path)]
    assert len(copies) == 2 and len(set(copies)) == 2
    assert sorted(kit.sessions) == sorted(
        [
            (str(tmp_path), "open"),
            (str(tmp_path), "ended"),
            *((w, how) for w in copies for how in ("open", "ended")),
        ]
    )
