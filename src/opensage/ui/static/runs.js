// The runs page: every run, newest first, searchable; new runs appear as they start.
"use strict";

(() => {
  const {el, clear, api, query, runHref, cost, duration, when, badge, preview, debounce} = OS;
  const app = document.getElementById("app");
  const search = el("input", {type: "search", id: "search", placeholder:
    "Search tasks, models, agents, run ids…", "aria-label": "Search runs"});
  const body = el("tbody", {id: "runs"});
  const more = el("button", {class: "more", text: "Load more", hidden: true});
  const note = el("p", {class: "muted", id: "runs-note"});
  let runs = [];
  let shownKey = "";

  clear(app).append(
    el("div", {class: "toolbar"}, el("h1", {text: "Runs"}), search),
    el("table", {class: "runs"},
       el("thead", {}, el("tr", {}, ...["Started", "Task", "Model", "Status", "Steps", "Cost",
                                        "Time"].map((h) => el("th", {text: h})))),
       body),
    note, more);

  function row(r) {
    const time = r.duration_s !== null ? duration(r.duration_s)
      : r.status === "running" ? duration(Date.now() / 1000 - r.started) : "";
    return el("tr", {class: `run ${r.status}`, "data-run": r.run_id},
      el("td", {class: "nowrap", text: when(r.started)}),
      el("td", {class: "task"},
         el("a", {href: runHref(r.run_id), text: preview(r.task, 160) || "(no task)"}),
         el("div", {class: "muted mono small", text: r.run_id})),
      el("td", {class: "mono small", text: r.model}),
      el("td", {}, badge(r.stop_reason || r.status)),
      el("td", {class: "num", text: r.steps}),
      el("td", {class: "num", text: cost(r.cost_usd)}),
      el("td", {class: "num nowrap", text: time}));
  }

  function render() {
    const key = JSON.stringify(runs);
    if (key === shownKey) return;
    shownKey = key;
    clear(body).append(...runs.map(row));
    note.textContent = runs.length ? "" : search.value
      ? "No run matches." : "No runs yet: start one with `opensage run TASK`.";
  }

  async function load(reset) {
    const limit = reset ? 50 : Math.min(500, Math.max(50, runs.length));
    const found = await api(`/api/runs${query({q: search.value, limit})}`);
    runs = found.runs;
    more.hidden = found.runs.length < limit;
    render();
  }

  more.addEventListener("click", async () => {
    const last = runs[runs.length - 1];
    const found = await api(`/api/runs${query({q: search.value, limit: 50,
                                               before: last ? last.started : ""})}`);
    runs = runs.concat(found.runs);
    more.hidden = found.runs.length < 50;
    render();
  });
  search.addEventListener("input", debounce(() => load(true).catch((e) => OS.failure(note, e)),
                                            250));

  load(true).then(() => { document.body.dataset.ready = "1"; })
    .catch((e) => OS.failure(note, e));
  // New runs, and the progress of running ones, without reloading.
  setInterval(() => {
    if (!document.hidden) load(false).catch(() => {});
  }, 2000);
})();
