// The run page: the agent team as a tree (with ensembles, their candidates and choice), what
// the run made (agents, tools, memory), its errors, and a paged timeline whose rows open to the
// whole of a model call or a tool call (full output included). A running run is followed live.
"use strict";

(() => {
  const {el, clear, api, query, toolHref, entryHref, cost, tokens, duration, when,
         badge, tag, preview, pretty, pre} = OS;
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const runId = document.body.dataset.runId;
  const base = `/api/runs/${encodeURIComponent(runId)}`;
  const app = document.getElementById("app");
  const PAGE = 200;

  const summary = el("section", {id: "summary", class: "summary"});
  const tree = el("ul", {id: "tree", class: "tree"});
  const side = el("div", {id: "side-sections"});
  const agentFilter = el("select", {id: "agent-filter", "aria-label": "Agent"});
  const errorsOnly = el("input", {type: "checkbox", id: "errors-only"});
  const earlier = el("button", {class: "more", id: "earlier", text: "Load earlier events",
                                hidden: true});
  const list = el("div", {id: "events", class: "events"});
  const later = el("button", {class: "more", id: "later", text: "Load more events", hidden: true});
  const fresh = el("button", {class: "more live", id: "fresh", hidden: true});
  const live = el("span", {id: "live", class: "live-dot", hidden: true, text: "live"});

  clear(app).append(summary, el("div", {class: "columns"},
    el("aside", {class: "side"}, el("h2", {text: "Agents"}), tree, side),
    el("section", {class: "timeline"},
       el("div", {class: "toolbar"}, el("h2", {text: "Timeline"}), live,
          el("label", {}, "Agent ", agentFilter),
          el("label", {}, errorsOnly, " errors only")),
       earlier, list, later, fresh)));

  let detail = null;
  let firstId = null; // the first event shown
  let nextAfter = null; // where the next page starts; null: the timeline reaches the end
  let lastEvent = 0; // the last event the page knows of
  let pending = 0; // events recorded after the shown ones, not yet shown
  let refreshTimer = null;
  let source = null;

  // --- the summary and the tree -------------------------------------------------------------

  function renderSummary(run) {
    const time = run.duration_s !== null ? duration(run.duration_s)
      : duration(Date.now() / 1000 - run.started);
    const answer = run.answer
      ? el("details", {class: "answer"}, el("summary", {text: "Answer"}), pre(run.answer))
      : null;
    OS.add(clear(summary), [
      el("h1", {id: "task", text: preview(run.task, 300) || "(no task)"}),
      el("div", {class: "meta"}, badge(run.stop_reason || run.status, "big"),
         el("span", {class: "mono", text: run.run_id}),
         el("span", {text: `model ${run.model}`}),
         el("span", {text: `${plural(run.steps, "step")} · ${plural(run.requests, "model call")}`}),
         el("span", {text: tokens(run.tokens)}),
         el("span", {id: "run-cost", text: cost(run.cost_usd)}),
         el("span", {text: time}), el("span", {text: `started ${when(run.started)}`}),
         el("span", {id: "event-count", text: `${run.events} events`})),
      run.message ? el("p", {class: "muted", text: run.message}) : null,
      answer]);
  }

  function agentNode(a) {
    const own = a.usage || {};
    const classes = ["node", a.running ? "running" : "", a.retired ? "retired" : "",
                     a.selected ? "selected" : "",
                     a.outcome && !["finished", "cancelled"].includes(a.outcome.stop_reason)
                       ? "failed" : ""].filter(Boolean).join(" ");
    const outcome = a.outcome ? badge(a.outcome.stop_reason)
      : el("span", {class: "doing", text: `● ${a.doing}`});
    const total = a.outcome && a.outcome.usage && a.outcome.usage.cost_usd !== own.cost_usd
      ? ` (with its agents ${cost(a.outcome.usage.cost_usd)})` : "";
    return el("div", {class: classes, "data-node": a.id, "data-agent": a.name,
                      title: "Show this agent's events", onclick: () => filterAgent(a.name)},
      el("span", {class: "name", text: a.name}),
      a.member !== null ? tag(`member ${a.member}`, "member") : null,
      a.selected ? tag("✓ selected", "chosen") : null,
      a.background ? tag("background", "bg") : null,
      a.retired ? tag("retired", "retired") : null,
      outcome,
      el("div", {class: "stats"}, el("span", {class: "mono", text: a.model}),
         ` · ${plural(a.steps, "step")} · ${tokens(own.total_tokens)} · ${cost(own.cost_usd)}` +
         total),
      a.task ? el("div", {class: "task muted", text: preview(a.task, 140)}) : null);
  }

  function memberVerdict(m) {
    if (m.passed === null || m.passed === undefined) return null;
    return tag(m.passed ? `verify passed (exit ${m.verify_exit_code})`
      : `verify failed (exit ${m.verify_exit_code})`, m.passed ? "pass" : "fail");
  }

  function renderTree(d) {
    const children = new Map();
    const roots = [];
    const ids = new Set(d.agents.map((a) => a.id));
    for (const a of d.agents) {
      if (a.parent === null || !ids.has(a.parent)) roots.push(a);
      else (children.get(a.parent) || children.set(a.parent, []).get(a.parent)).push(a);
    }
    const ensembles = new Map(d.ensembles.map((e) => [e.id, e]));
    const byAgent = new Map(d.agents.map((a) => [a.id, a]));

    function item(a) {
      const li = el("li", {}, agentNode(a));
      const kids = children.get(a.id) || [];
      const mine = d.ensembles.filter((e) => e.by === a.id);
      if (kids.length || mine.length) {
        const ul = el("ul");
        const done = new Set();
        for (const kid of kids) {
          if (kid.ensemble !== null && ensembles.has(kid.ensemble)) {
            if (!done.has(kid.ensemble)) {
              done.add(kid.ensemble);
              ul.appendChild(ensembleItem(ensembles.get(kid.ensemble)));
            }
          } else ul.appendChild(item(kid));
        }
        for (const e of mine) if (!done.has(e.id)) ul.appendChild(ensembleItem(e));
        li.appendChild(ul);
      }
      return li;
    }

    function ensembleItem(e) {
      const chosen = e.done
        ? (e.selected === null ? tag("none selected", "fail") : tag(`selected member ${e.selected}`,
                                                                   "chosen"))
        : el("span", {class: "doing", text: "● running"});
      const head = el("div", {class: "node ensemble", "data-ensemble": e.id},
        el("span", {class: "name", text: `ensemble of ${e.n} × ${e.agent}`}),
        tag(`select: ${e.select}`), chosen,
        e.verify_command ? el("div", {class: "stats mono", text: `verify: ${e.verify_command}`})
          : null,
        e.reason ? el("div", {class: "task muted", text: e.reason}) : null);
      const ul = el("ul");
      for (const m of e.members) {
        const agent = m.agent !== null ? byAgent.get(m.agent) : null;
        const li = agent ? item(agent) : el("li", {}, el("div", {class: "node", text:
          `member ${m.index} (not started)`}));
        const verdict = memberVerdict(m);
        if (verdict) li.firstChild.appendChild(verdict);
        ul.appendChild(li);
      }
      return el("li", {class: "ensemble-item"}, head, ul);
    }

    clear(tree).append(...roots.map(item));
  }

  function section(title, id, items) {
    if (!items.length) return null;
    return el("section", {id, class: "side-section"}, el("h2", {text: title}), el("ul", {}, items));
  }

  function eventLink(id, text) {
    return el("a", {href: `#e${Number(id)}`, class: "muted small", text: text || `event ${id}`,
                    onclick: (ev) => { ev.preventDefault(); jumpTo(id); }});
  }

  function renderSide(d) {
    const definitions = d.created_agents.map((c) => el("li", {},
      el("span", {class: "name", text: c.name}), ` v${c.version} `, c.retired
        ? tag("retired", "retired") : null,
      el("div", {class: "stats", text: `tools: ${(c.tools || []).join(", ") || "none"}`}),
      c.description ? el("div", {class: "muted", text: c.description}) : null,
      c.instructions ? el("details", {}, el("summary", {text: "instructions"}),
                          pre(c.instructions)) : null,
      eventLink(c.event)));
    const tools = d.tools.map((t) => el("li", {class: t.kind === "rejected" ? "bad" : ""},
      t.kind === "created"
        ? [el("a", {href: toolHref(t.name), text: t.name}), ` v${t.version} `,
           tag(`${t.tests} tests passed`, "pass")]
        : [el("span", {class: "name", text: t.name}), " ", tag(`rejected at ${t.stage}`, "fail"),
           el("div", {class: "muted small", text: preview(t.message, 240)})],
      " ", eventLink(t.event)));
    const memory = d.memory.map((m) => el("li", {},
      tag(m.how), " ", el("a", {href: entryHref(m.id), text: `#${m.id}`}), " ",
      m.kind ? el("span", {class: "muted", text: m.kind}) : null,
      m.text ? el("div", {class: "small", text: preview(m.text, 200)}) : null,
      m.query ? el("div", {class: "muted small", text: `query: ${preview(m.query, 100)}`}) : null,
      eventLink(m.event)));
    const errors = d.errors.map((e) => el("li", {class: "bad"},
      el("span", {class: "name", text: e.agent || "run"}), " ", tag(e.kind, "fail"),
      el("div", {class: "small", text: preview(e.message, 240)}), eventLink(e.event)));
    clear(side).append(...[section("Agents created", "created", definitions),
                           section("Tools written", "tools", tools),
                           section("Memory", "memory", memory),
                           section("Errors", "errors", errors)].filter(Boolean));
  }

  function renderFilter(d) {
    const names = [...new Set(d.agents.map((a) => a.name))];
    const current = agentFilter.value;
    clear(agentFilter).append(el("option", {value: "", text: "all"}),
                              ...names.map((n) => el("option", {value: n, text: n})));
    agentFilter.value = names.includes(current) ? current : "";
  }

  async function refresh() {
    refreshTimer = null;
    detail = await api(base);
    renderSummary(detail.run);
    renderTree(detail);
    renderSide(detail);
    renderFilter(detail);
    return detail;
  }

  function scheduleRefresh() {
    if (refreshTimer === null) refreshTimer = setTimeout(() => refresh().catch(() => {}), 1000);
  }

  // --- the timeline -------------------------------------------------------------------------

  const KIND_LABEL = {
    run_started: "run started", run_finished: "run ended", run_resumed: "run resumed",
    agent_started: "agent started", agent_finished: "agent ended", agent_resumed: "resumed",
    agent_created: "created agent", agent_retired: "retired agent",
    ensemble_started: "ensemble", ensemble_member: "member", ensemble_selected: "selected",
    tool_created: "wrote tool", tool_rejected: "tool rejected", memory_written: "remembered",
    memory_consolidated: "consolidated", model_error: "model error",
    context_compacted: "compacted",
  };

  function describe(r) {
    const d = r.data || {};
    switch (r.kind) {
      case "model_response": {
        const u = d.usage || {};
        const what = "step" in d ? `step ${d.step}` : `${d.purpose || "side"} request`;
        const calls = (r.calls || []).map((c) => c.name).join(", ");
        return [el("b", {text: what}), el("span", {class: "muted", text:
          ` ${tokens(u.total_tokens)} ${cost(u.cost_usd)}`}),
                calls ? el("span", {class: "calls", text: ` → ${calls}`}) : null,
                r.text || d.reply ? el("span", {class: "text", text:
                  ` ${preview(r.text || d.reply, 200)}`}) : null];
      }
      case "tool_call":
        return [el("span", {class: "call", text: `→ ${d.name}`}),
                el("span", {class: "args", text: `(${preview(r.arguments, 200)})`})];
      case "tool_result":
        return [el("span", {class: d.ok ? "ok" : "bad", text: d.ok ? `← ${d.name} ok`
          : `← ${d.name} error (${d.error})`}),
                el("span", {class: "muted", text: ` ${duration(d.duration_s)} · ${d.chars} chars`}),
                r.cut ? tag("cut for the model: full output kept", "cut") : null,
                el("span", {class: "text", text: ` ${preview(r.text, 200)}`})];
      case "agent_started":
        return [el("b", {text: `agent ${d.name}`}), el("span", {class: "muted", text:
          ` started · ${d.model}`})];
      case "agent_finished": case "run_finished": {
        const u = d.usage || {};
        return [el("b", {text: `${r.kind === "run_finished" ? "run" : "agent"} ${d.stop_reason}`}),
                el("span", {class: "muted", text: ` ${d.steps} steps · ${cost(u.cost_usd)} · `}),
                el("span", {class: "text", text: preview(d.answer || d.message, 200)})];
      }
      case "ensemble_started":
        return [el("b", {text: `ensemble of ${d.n} × ${d.agent}`}),
                el("span", {class: "muted", text: ` select ${d.select}`})];
      case "ensemble_selected":
        return [el("b", {text: d.selected === null ? "selected none"
          : `selected member ${d.selected}`}), el("span", {class: "text", text:
          ` ${preview(d.reason, 200)}`})];
      case "model_error":
        return [el("b", {class: "bad", text: `model error ${d.error}`}),
                el("span", {class: "text", text: ` ${preview(d.message, 200)}`})];
      default: {
        const text = d.name || d.message || d.task || (d.id !== undefined ? `#${d.id}` : "") ||
          JSON.stringify(d);
        return [el("b", {text: KIND_LABEL[r.kind] || r.kind}),
                el("span", {class: "text", text: ` ${preview(text, 200)}`})];
      }
    }
  }

  function rowOf(r) {
    const started = detail ? detail.run.started : r.ts;
    const row = el("div", {class: `row kind-${r.kind}${r.error ? " error" : ""}`, id: `e${r.id}`,
                           "data-event": r.id, "data-kind": r.kind, tabindex: "0"},
      el("span", {class: "at mono", text: `+${(r.ts - started).toFixed(1)}s`}),
      el("span", {class: "who", text: r.agent || "run"}),
      el("span", {class: "what"}, describe(r)));
    const open = () => toggle(row, r.id);
    row.addEventListener("click", (ev) => { if (!ev.target.closest(".detail")) open(); });
    row.addEventListener("keydown", (ev) => { if (ev.key === "Enter") open(); });
    return row;
  }

  function visible(r) {
    if (agentFilter.value && r.agent !== agentFilter.value) return false;
    return !errorsOnly.checked || r.error;
  }

  function timelineQuery(extra) {
    return `${base}/events${query({limit: PAGE, agent: agentFilter.value,
                                    errors: errorsOnly.checked ? 1 : "", ...extra})}`;
  }

  async function loadFrom(after, fetched) {
    const page = await (fetched || api(timelineQuery({after})));
    clear(list);
    firstId = page.events.length ? page.events[0].id : null;
    earlier.hidden = !(after > 0);
    show(page);
  }

  function show(page) {
    list.append(...page.events.map(rowOf));
    nextAfter = page.next;
    lastEvent = Math.max(lastEvent, page.last_event);
    later.hidden = nextAfter === null;
    if (nextAfter === null) { pending = 0; fresh.hidden = true; }
    if (!list.firstChild) list.appendChild(el("p", {class: "muted", text: "No events."}));
  }

  later.addEventListener("click", async () => {
    const placeholder = list.querySelector("p.muted");
    if (placeholder) placeholder.remove();
    show(await api(timelineQuery({after: nextAfter})));
  });

  fresh.addEventListener("click", () => later.click());

  earlier.addEventListener("click", async () => {
    const start = Math.max(0, firstId - 2 * PAGE);
    const page = await api(timelineQuery({after: start, before: firstId, limit: 1000}));
    const rows = page.events.filter((r) => r.id < firstId);
    list.prepend(...rows.map(rowOf));
    if (rows.length) firstId = rows[0].id;
    earlier.hidden = start === 0;
  });

  agentFilter.addEventListener("change", () => loadFrom(0));
  errorsOnly.addEventListener("change", () => loadFrom(0));

  async function jumpTo(id) {
    let row = document.getElementById(`e${id}`);
    if (!row) {
      agentFilter.value = "";
      errorsOnly.checked = false;
      await loadFrom(Math.max(0, id - 20));
      row = document.getElementById(`e${id}`);
    }
    if (row) {
      row.scrollIntoView({block: "center"});
      if (!row.querySelector(".detail")) await toggle(row, id);
      row.classList.add("target");
    }
  }

  // --- one event, whole ---------------------------------------------------------------------

  async function toggle(row, id) {
    const open = row.querySelector(".detail");
    if (open) { open.remove(); return; }
    const box = el("div", {class: "detail"}, el("p", {class: "muted", text: "Loading…"}));
    row.appendChild(box);
    try {
      renderDetail(clear(box), await api(`${base}/events/${Number(id)}`));
    } catch (error) { OS.failure(box, error); }
  }

  function message(m) {
    return el("div", {class: `msg role-${m.role}`},
      el("div", {class: "role", text: `${m.role}${m.name ? ` · ${m.name}` : ""}` +
        `${m.is_error ? " · error" : ""}`}),
      m.content ? pre(m.content) : null,
      ...(m.tool_calls || []).map((c) => el("div", {class: "tool-call"},
        el("span", {class: "call", text: `→ ${c.name}`}), pre(pretty(c.arguments), "args"))));
  }

  function renderDetail(box, d) {
    const e = d.event;
    const put = (...children) => OS.add(box, children);
    if (d.call) {
      put(el("h3", {text: `Arguments of ${d.call.name}`}),
                 pre(d.call.arguments === null ? "(not recorded)" : pretty(d.call.arguments),
                     "args"));
    }
    if (d.result) {
      const r = d.result;
      put(el("h3", {text: `Output (${r.ok ? "ok" : `error: ${r.error}`}, ` +
                                 `${(r.output || "").length.toLocaleString("en")} characters)`}),
                 r.seen !== null && r.seen !== undefined
                   ? el("p", {class: "note", text: "The model saw this output cut to " +
                     `${r.seen.length.toLocaleString("en")} characters; here it is whole.`})
                   : null,
                 pre(r.output, "output"));
    } else if (e.kind === "tool_call") {
      put(el("p", {class: "muted", text: "No result yet."}));
    }
    if (e.kind === "model_response") {
      if (d.message) put(el("h3", {text: "Reply"}), message(d.message));
      else if (e.data.reply) put(el("h3", {text: "Reply"}), pre(e.data.reply));
      const request = d.request;
      if (request && request.data.messages) {
        put(el("h3", {text: `Messages sent (${request.data.purpose})`}),
                   ...request.data.messages.map(message));
      } else if (request && request.data.conv) {
        put(conversation(request.data.conv, request.data.upto));
      }
      put(el("h3", {text: "Usage"}), pre(pretty(e.data.usage)));
    } else if (!d.call && !d.result) {
      put(el("h3", {text: e.kind}), pre(pretty(e.data)));
      if (d.message) put(message(d.message));
    }
  }

  // The messages a step sent: the last ones first, earlier ones on demand.
  function conversation(conv, upto) {
    const holder = el("div", {class: "conversation"});
    let start = Math.max(0, upto - 10);
    const list = el("div");
    const earlierButton = el("button", {class: "more small", text: "Show earlier messages"});
    async function load(from, to) {
      const found = await api(`${base}/conversations/${Number(conv)}` +
                              query({start: from, end: to}));
      list.prepend(...found.messages.map(message));
      earlierButton.hidden = from === 0;
    }
    earlierButton.addEventListener("click", () => {
      const to = start;
      start = Math.max(0, start - 20);
      load(start, to).catch((e) => OS.failure(list, e));
    });
    holder.append(el("h3", {text: `Messages sent (${upto})`}), earlierButton, list);
    load(start, upto).catch((e) => OS.failure(list, e));
    return holder;
  }

  // --- live ---------------------------------------------------------------------------------

  function follow() {
    if (source !== null) return;
    live.hidden = false;
    source = new EventSource(`${base}/events${query({after: lastEvent})}`);
    source.addEventListener("events", (msg) => {
      const data = JSON.parse(msg.data);
      lastEvent = Math.max(lastEvent, data.last_event);
      const count = document.getElementById("event-count");
      if (count) count.textContent = `${lastEvent} events`;
      if (nextAfter === null) {
        const placeholder = list.querySelector("p.muted");
        if (placeholder && data.events.length) placeholder.remove();
        list.append(...data.events.filter(visible).map(rowOf));
      } else {
        pending += data.events.length;
        fresh.textContent = `${pending} new events: show them`;
        fresh.hidden = false;
      }
      scheduleRefresh();
    });
    source.addEventListener("end", () => {
      source.close();
      source = null;
      live.hidden = true;
      refresh().catch(() => {});
    });
  }

  async function start() {
    const hash = /^#e(\d+)$/.exec(location.hash);
    const first = hash ? null : api(timelineQuery({after: 0})); // while the tree loads
    const d = await refresh();
    if (hash) await jumpTo(Number(hash[1]));
    else await loadFrom(0, first);
    lastEvent = Math.max(lastEvent, d.last_event);
    if (d.run.status === "running") follow();
    document.body.dataset.ready = "1";
  }

  start().catch((error) => OS.failure(app, error));
})();
