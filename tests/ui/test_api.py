"""The viewer's JSON API on a recorded team run: every endpoint, over real HTTP."""

from __future__ import annotations

import json
import re

from .scenario import AGENTS, BIG, FACT, MIDDLE, PLANT, SHOUT, TASK, WRITTEN


def test_runs_are_listed_newest_first_and_searchable(client, recorded):
    runs = client.get("/api/runs").json()["runs"]
    (run,) = runs
    assert run["run_id"] == recorded.run_id and run["task"] == TASK
    assert (run["model"], run["status"], run["stop_reason"]) == ("function", "finished", "finished")
    assert run["steps"] == recorded.result.steps == 14
    assert run["requests"] == recorded.result.usage.requests
    assert run["cost_usd"] == 0 and run["tokens"] == recorded.result.usage.total_tokens
    assert run["started"] < run["ended"] and run["duration_s"] > 0
    assert client.get("/api/runs?q=greeting").json()["runs"][0]["run_id"] == recorded.run_id
    assert client.get(f"/api/runs?q={recorded.run_id[:12]}").json()["runs"]
    assert client.get("/api/runs?q=no-such-words").json()["runs"] == []
    assert client.get(f"/api/runs?before={run['started']}").json()["runs"] == []


def test_a_run_comes_with_its_whole_agent_tree(client, recorded):
    detail = client.get(f"/api/runs/{recorded.run_id}").json()
    agents = {a["name"]: a for a in detail["agents"]}
    assert set(agents) == set(AGENTS)
    root = agents["root"]
    assert root["parent"] is None and root["depth"] == 0
    for name in AGENTS[1:]:
        assert agents[name]["parent"] == root["id"] and agents[name]["depth"] == 1
    for a in agents.values():  # each with model, steps, tokens, cost and outcome
        assert a["model"] == "function" and a["steps"] >= 1
        assert a["usage"]["total_tokens"] > 0 and a["usage"]["cost_usd"] == 0
        assert a["outcome"]["stop_reason"] == "finished" and not a["running"]
    assert root["steps"] == 14
    assert agents["researcher"]["via_tool"] == "run_agent"
    assert agents["researcher"]["task"] == "find the greeting"
    assert agents["helper"]["background"] and not agents["researcher"]["background"]
    assert agents["researcher"]["retired"] and not agents["helper"]["retired"]
    names = [c["name"] for c in root["tool_calls"]]
    assert names[:6] == [
        "create_agent",
        "create_agent",
        "create_agent",
        "run_agent",
        "run_agent",
        "ensemble",
    ]
    failed = [c for c in root["tool_calls"] if c["ok"] is False]
    assert [c["name"] for c in failed] == ["read_file"] and failed[0]["error"] == "exception"
    assert [c["name"] for c in agents["researcher"]["tool_calls"]] == [
        "remember",
        "recall",
        "finish",
    ]
    cut = [c for c in root["tool_calls"] if c["cut"]]
    assert [c["name"] for c in cut] == ["read_file"]


def test_the_ensemble_shows_every_candidate_its_verification_and_the_choice(client, recorded):
    detail = client.get(f"/api/runs/{recorded.run_id}").json()
    (ensemble,) = detail["ensembles"]
    assert (ensemble["agent"], ensemble["n"], ensemble["select"]) == ("writer", 3, "verify")
    assert ensemble["verify_command"] == "grep -qx yes answer.txt" and ensemble["done"]
    members = ensemble["members"]
    assert [m["index"] for m in members] == [0, 1, 2]
    passed = [m["index"] for m in members if m["passed"]]
    assert passed == [ensemble["selected"]]  # exactly one passed, and it was chosen
    assert [m["verify_exit_code"] == 0 for m in members] == [m["passed"] for m in members]
    assert all(m["stop_reason"] == "finished" and m["steps"] == 2 for m in members)
    assert "1 of 3 passed" in ensemble["reason"] and ensemble["changed"] == ["answer.txt"]
    by_id = {a["id"]: a for a in detail["agents"]}
    chosen = by_id[members[ensemble["selected"]]["agent"]]
    assert chosen["name"] == f"writer[{ensemble['selected']}]" and chosen["selected"]
    assert sum(a["selected"] for a in detail["agents"]) == 1
    assert (recorded.workdir / "answer.txt").read_text() == "yes\n"


def test_a_run_shows_what_it_created_and_remembered_and_its_errors(client, recorded):
    detail = client.get(f"/api/runs/{recorded.run_id}").json()
    created = {c["name"]: c for c in detail["created_agents"]}
    assert set(created) == {"researcher", "writer", "helper"}
    assert created["researcher"]["instructions"] == "RESEARCH" and created["researcher"]["retired"]
    assert created["writer"]["tools"] == ["write_file", "read_file"]
    (tool,) = detail["tools"]
    assert (tool["kind"], tool["name"], tool["version"], tool["tests"]) == (
        "created",
        "shout",
        1,
        1,
    )
    memory = {(m["how"], m["id"]) for m in detail["memory"]}
    assert {("written", WRITTEN), ("recalled", WRITTEN)} <= memory
    assert any(how == "consolidated" for how, _ in memory)  # the lesson of the failed read
    written = next(m for m in detail["memory"] if m["how"] == "written")
    assert written["text"] == FACT and written["agent"] == "researcher"
    (error,) = detail["errors"]
    assert (
        error["agent"] == "root" and "No such file or directory: 'missing.txt'" in error["message"]
    )


def test_events_come_in_pages_that_cover_the_run(client, recorded):
    base = f"/api/runs/{recorded.run_id}/events"
    seen, after = [], 0
    while True:
        page = client.get(f"{base}?after={after}&limit=25").json()
        assert len(page["events"]) <= 25
        seen += page["events"]
        if page["next"] is None:
            break
        after = page["next"]
    ids = [e["id"] for e in seen]
    assert ids == sorted(set(ids)) and ids[0] == 1
    assert {e["kind"] for e in seen}.isdisjoint({"model_request", "budget_charge"})
    assert page["last_event"] >= ids[-1]
    calls = [e for e in seen if e["kind"] == "tool_call"]
    assert any('"path": "big.txt"' in e["arguments"] for e in calls)
    errors = client.get(f"{base}?errors=1").json()["events"]
    assert [(e["kind"], e["data"]["name"]) for e in errors] == [("tool_result", "read_file")]
    assert all(e["error"] for e in errors)
    helper = client.get(f"{base}?agent=helper").json()["events"]
    assert helper and {e["agent"] for e in helper} == {"helper"}
    window = client.get(f"{base}?after=10&before=20").json()["events"]
    assert [e["id"] for e in window] == [i for i in ids if 10 < i < 20]
    assert client.get(f"{base}?after=x").status == 400


def test_one_tool_call_gives_its_arguments_and_its_full_output(client, recorded):
    base = f"/api/runs/{recorded.run_id}/events"
    rows = client.get(f"{base}?limit=1000").json()["events"]
    call = next(
        e
        for e in rows
        if e["kind"] == "tool_call"
        and '"big.txt"' in e["arguments"]
        and e["data"]["name"] == "read_file"
    )
    whole = client.get(f"{base}/{call['id']}").json()
    assert whole["call"]["name"] == "read_file" and whole["call"]["parsed"] == {"path": "big.txt"}
    result = whole["result"]
    assert result["ok"] and result["chars"] == len(result["output"]) > 16_000
    assert MIDDLE in result["output"] and PLANT in result["output"]  # the whole of it
    assert BIG.splitlines()[1] in result["output"]
    assert MIDDLE not in result["seen"] and "characters cut" in result["seen"]  # what the model saw
    # The result event gives the same, its call included.
    same = client.get(f"{base}/{result['event']}").json()
    assert same["result"]["output"] == result["output"] and same["call"]["event"] == call["id"]
    assert client.get(f"{base}/99999").status == 404


def test_a_model_call_gives_its_reply_and_the_messages_it_sent(client, recorded):
    base = f"/api/runs/{recorded.run_id}"
    rows = client.get(f"{base}/events?limit=1000").json()["events"]
    step = next(
        e
        for e in rows
        if e["kind"] == "model_response" and e["agent"] == "root" and e["data"].get("step") == 8
    )
    whole = client.get(f"{base}/events/{step['id']}").json()
    (called,) = whole["message"]["tool_calls"]
    assert called["name"] == "create_tool" and json.loads(called["arguments"])["code"] == SHOUT
    request = whole["request"]["data"]
    sent = client.get(f"{base}/conversations/{request['conv']}?end={request['upto']}").json()
    assert sent["messages"][0] == {
        "seq": 0,
        "event": request["conv"],
        "role": "system",
        "content": "ROOT",
    }
    assert sent["messages"][1]["content"] == TASK and len(sent["messages"]) == request["upto"]
    assert sent["total"] > request["upto"]


def test_the_event_stream_of_a_finished_run_sends_its_events_then_ends(client, recorded):
    reply = client.get(
        f"/api/runs/{recorded.run_id}/events?after=100", headers={"accept": "text/event-stream"}
    )
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/event-stream")
    text = reply.text
    batch = re.search(r"id: (\d+)\nevent: events\ndata: (.*)\n", text)
    assert batch is not None
    sent = json.loads(batch.group(2))
    assert sent["events"][0]["id"] > 100 and int(batch.group(1)) == sent["last_event"]
    assert text.rstrip().endswith('event: end\ndata: {"status":"finished"}')
    resumed = client.get(
        f"/api/runs/{recorded.run_id}/events",
        headers={"accept": "text/event-stream", "last-event-id": batch.group(1)},
    ).text
    assert "event: events" not in resumed and "event: end" in resumed


def test_the_tool_library_with_source_tests_versions_provenance_and_usage(client, recorded):
    (listed,) = client.get("/api/tools").json()["tools"]
    assert (listed["name"], listed["version"], listed["calls"], listed["successes"]) == (
        "shout",
        1,
        1,
        1,
    )
    assert (
        client.get("/api/tools?q=upper").json()["tools"]
        and not client.get("/api/tools?q=nothing").json()["tools"]
    )
    tool = client.get("/api/tools/shout").json()
    (version,) = tool["versions"]
    assert version["code"] == SHOUT and version["tests"] == [
        {"args": {"text": "hi"}, "expect": "HI"}
    ]
    assert version["schema"]["properties"] == {"text": {"type": "string"}}
    assert version["created_run"] == recorded.run_id and version["created_by"] == "root"
    assert version["provenance"]["created"]["tests"] == 1
    assert client.get("/api/tools/missing").status == 404


def test_the_agent_library(client, recorded):
    agents = {a["name"]: a for a in client.get("/api/agents").json()["agents"]}
    assert set(agents) == {"researcher", "writer", "helper"} and agents["researcher"]["retired"]
    (version,) = client.get("/api/agents/writer").json()["versions"]
    assert version["instructions"] == "WRITE" and version["created_run"] == recorded.run_id


def test_memory_search_and_an_entry_with_provenance_links_and_graph(client, recorded):
    found = client.get("/api/memory?q=greeting").json()
    assert found["stats"]["entries"] == 4 and found["location"].endswith("memory.db")
    ids = [e["id"] for e in found["entries"]]
    assert WRITTEN not in ids  # superseded: left out unless asked for
    assert WRITTEN in [
        e["id"] for e in client.get("/api/memory?q=greeting&superseded=1").json()["entries"]
    ]
    lessons = client.get("/api/memory?kind=lesson").json()["entries"]
    assert [e["kind"] for e in lessons] == ["lesson"]
    entry = client.get(f"/api/memory/{WRITTEN}").json()
    assert entry["text"] == FACT and entry["superseded_by"] == 3
    provenance = entry["provenance"]
    assert provenance["run"] == recorded.run_id and provenance["task"] == TASK
    assert (provenance["kind"], provenance["agent"]) == ("tool_call", "researcher")
    links = {(link["direction"], link["type"], link["id"]) for link in entry["links"]}
    assert links == {("in", "supersedes", 3), ("in", "related", 4)}
    graph = entry["graph"]
    assert {n["id"] for n in graph["nodes"]} == {1, 3, 4}
    assert {(e["src"], e["dst"], e["type"]) for e in graph["edges"]} == {
        (3, 1, "supersedes"),
        (4, 1, "related"),
        (3, 4, "related"),
    }
    assert client.get("/api/memory/999").status == 404
    # Searching counted no access: the viewer writes nothing.
    assert client.get(f"/api/memory/{WRITTEN}").json()["accessed"] == entry["accessed"]


def test_unknown_things_are_not_found(client):
    for path in (
        "/api/runs/nope",
        "/api/runs/nope/events",
        "/api/runs/nope/events/1",
        "/api/agents/nope",
        "/api/nothing",
    ):
        assert client.get(path).status == 404, path
    page = client.get("/runs/%3Cimg%20src%3Dx%20onerror%3D%22alert(1)%22%3E")
    assert page.status == 404 and "<img" not in page.text
    assert "run &lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page.text


def test_a_home_with_nothing_yet_serves_empty_lists(tmp_path):
    from .conftest import Client, serve

    server = serve(tmp_path / "new-home")
    try:
        client = Client(f"http://127.0.0.1:{server.served.port}")
        assert client.get("/api/runs").json() == {"runs": []}
        assert client.get("/api/tools").json() == {"tools": []}
        assert client.get("/api/agents").json() == {"agents": []}
        memory = client.get("/api/memory?q=anything").json()
        assert memory["entries"] == [] and memory["stats"]["entries"] == 0
        assert client.get("/").status == 200 and client.get("/memory").status == 200
        assert not (tmp_path / "new-home" / "events.db").exists()  # reading made nothing
    finally:
        server.stop()
