// The tools page: the library of tools models wrote, with each version's source, tests,
// provenance (the run and agent that wrote it, the attempts that failed first) and usage.
"use strict";

(() => {
  const {el, clear, api, query, runHref, when, tag, preview, pretty, pre, debounce} = OS;
  const app = document.getElementById("app");
  const search = el("input", {type: "search", id: "search", placeholder: "Search tools…",
                              "aria-label": "Search tools"});
  const listing = el("ul", {id: "tool-list", class: "listing"});
  const view = el("section", {id: "tool", class: "panel"});
  clear(app).append(el("div", {class: "toolbar"}, el("h1", {text: "Tools"}), search),
                    el("div", {class: "columns"}, el("aside", {class: "side"}, listing), view));

  function rate(calls, successes) {
    return calls ? `${calls} calls, ${Math.round(100 * successes / calls)}% ok` : "never called";
  }

  async function loadList() {
    const found = await api(`/api/tools${query({q: search.value})}`);
    clear(listing).append(...found.tools.map((t) => el("li", {},
      el("a", {href: `?name=${encodeURIComponent(t.name)}`, "data-tool": t.name, text: t.name,
               onclick: (ev) => { ev.preventDefault(); open(t.name); }}),
      ` v${t.version}`, el("div", {class: "muted small", text: preview(t.description, 120)}),
      el("div", {class: "muted small", text: rate(t.calls, t.successes)}))));
    if (!found.tools.length) {
      listing.appendChild(el("li", {class: "muted", text: search.value ? "No tool matches."
        : "No tools yet: models write them with create_tool."}));
    }
  }

  function parameters(schema) {
    const props = (schema && schema.properties) || {};
    const required = new Set((schema && schema.required) || []);
    const rows = Object.entries(props).map(([name, p]) => el("tr", {},
      el("td", {class: "mono", text: name + (required.has(name) ? "" : "?")}),
      el("td", {class: "mono", text: p.type || JSON.stringify(p.anyOf || p.enum || "")}),
      el("td", {text: p.description || ""})));
    return rows.length ? el("table", {class: "params"}, el("tbody", {}, rows))
      : el("p", {class: "muted", text: "No parameters."});
  }

  function version(v) {
    const p = v.provenance || {};
    const made = p.created
      ? [`made by ${p.created.agent} in run `, el("a", {href: runHref(v.created_run, p.created.event),
                                                       text: v.created_run}),
         ` · ${p.created.tests} tests passed`]
      : v.created_run ? ["made in run ", el("a", {href: runHref(v.created_run),
                                                  text: v.created_run})] : ["made outside a run"];
    const attempts = (p.rejected || []).map((r) => el("li", {class: "bad"},
      tag(`rejected at ${r.stage}`, "fail"), " ",
      el("a", {href: runHref(v.created_run, r.event), text: `event ${r.event}`}),
      pre(r.message || "")));
    const tests = (v.tests || []).map((t) => el("li", {},
      pre(pretty(JSON.stringify(t)), "args")));
    return el("div", {class: "version", "data-version": v.version},
      el("h2", {}, `version ${v.version}`, v.removed ? tag("removed", "retired") : null),
      el("p", {text: v.description}),
      el("p", {class: "muted"}, ...made, ` · ${when(v.created_at)} · ${rate(v.calls, v.successes)}`),
      el("h3", {text: "Parameters"}), parameters(v.schema),
      el("h3", {text: `Tests (${(v.tests || []).length}, all passed when it was kept)`}),
      tests.length ? el("ul", {class: "tests"}, tests) : el("p", {class: "muted", text: "None."}),
      attempts.length ? [el("h3", {text: "Failed attempts before it"}),
                         el("ul", {class: "attempts"}, attempts)] : null,
      el("h3", {text: "Source"}), pre(v.code, "code"));
  }

  async function open(name) {
    history.replaceState(null, "", `/tools${query({name})}`);
    clear(view).appendChild(el("p", {class: "muted", text: "Loading…"}));
    try {
      const t = await api(`/api/tools/${encodeURIComponent(name)}`);
      clear(view).append(el("h1", {class: "mono", text: t.name}),
        el("p", {class: "muted", text: `${t.versions.length} versions · ` +
          rate(t.calls, t.successes)}),
        ...t.versions.map(version));
    } catch (error) { OS.failure(view, error); }
  }

  search.addEventListener("input", debounce(() => loadList().catch((e) => OS.failure(listing, e)),
                                            250));
  const wanted = new URLSearchParams(location.search).get("name");
  loadList().then(() => {
    const first = wanted || (listing.querySelector("a") || {}).textContent;
    return first ? open(first) : null;
  }).then(() => { document.body.dataset.ready = "1"; })
    .catch((e) => OS.failure(listing, e));
})();
