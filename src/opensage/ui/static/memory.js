// The memory page: search the long-term store; an entry with its provenance (the run and event
// that wrote it), its links, and its neighbourhood drawn as a small graph.
"use strict";

(() => {
  const {el, clear, api, query, runHref, entryHref, when, tag, preview, pretty, pre,
         debounce} = OS;
  const app = document.getElementById("app");
  const search = el("input", {type: "search", id: "search", placeholder: "Search memory…",
                              "aria-label": "Search memory"});
  const kind = el("select", {id: "kind", "aria-label": "Kind"}, el("option", {value: "",
                                                                              text: "all kinds"}));
  const old = el("input", {type: "checkbox", id: "superseded"});
  const listing = el("ul", {id: "entries", class: "listing"});
  const stats = el("p", {class: "muted", id: "stats"});
  const view = el("section", {id: "entry", class: "panel"});
  clear(app).append(
    el("div", {class: "toolbar"}, el("h1", {text: "Memory"}), search, kind,
       el("label", {}, old, " superseded too")),
    stats, el("div", {class: "columns"}, el("aside", {class: "side"}, listing), view));

  let kindsShown = false;

  async function loadList() {
    const found = await api(`/api/memory${query({q: search.value, kind: kind.value,
                                                 superseded: old.checked ? 1 : ""})}`);
    const s = found.stats;
    stats.textContent = `${s.entries} entries (${s.superseded} superseded), ${s.links} links` +
      ` · ${found.location}`;
    if (!kindsShown) {
      kindsShown = true;
      kind.append(...Object.keys(s.by_kind || {}).map((k) => el("option", {value: k, text: k})));
    }
    clear(listing).append(...found.entries.map((e) => el("li", {class: e.superseded_by ? "old" : ""},
      el("a", {href: entryHref(e.id), "data-entry": e.id, text: `#${e.id}`,
               onclick: (ev) => { ev.preventDefault(); open(e.id); }}),
      " ", tag(e.kind), " ", el("span", {text: preview(e.text, 160)}),
      el("div", {class: "muted small", text: `${e.scope} · ${when(e.created)}`}))));
    if (!found.entries.length) {
      listing.appendChild(el("li", {class: "muted", text: "Nothing matches."}));
    }
    return found;
  }

  // The neighbourhood: the entry in the middle, linked entries around it, theirs further out.
  function graph(g, centre) {
    const W = 560;
    const H = 360;
    const at = new Map();
    const rings = [[], [], []];
    for (const n of g.nodes) rings[Math.min(n.depth, 2)].push(n);
    rings.forEach((ring, depth) => ring.forEach((n, i) => {
      const angle = (2 * Math.PI * i) / Math.max(1, ring.length) - Math.PI / 2 + depth * 0.4;
      const r = depth * 130;
      at.set(n.id, [W / 2 + r * Math.cos(angle) * 1.5, H / 2 + r * Math.sin(angle)]);
    }));
    const svg = el("svg", {id: "graph", viewBox: `0 0 ${W} ${H}`, role: "img",
                           "aria-label": "Links of this entry"});
    for (const e of g.edges) {
      const [x1, y1] = at.get(e.src);
      const [x2, y2] = at.get(e.dst);
      svg.append(el("line", {svg: true, x1, y1, x2, y2, class: `edge ${e.type}`}),
                 el("text", {svg: true, x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4,
                             class: "edge-label", text: e.type}));
    }
    for (const n of g.nodes) {
      const [x, y] = at.get(n.id);
      const node = el("g", {svg: true, class: `gnode ${n.id === centre ? "centre" : ""}`,
                            "data-entry": n.id, tabindex: "0"},
        el("circle", {svg: true, cx: x, cy: y, r: n.id === centre ? 16 : 11,
                      class: `kind-${String(n.kind || "none").replace(/[^a-z_]/g, "")}`}),
        el("text", {svg: true, x, y: y + 4, class: "gid", text: `#${n.id}`}),
        el("text", {svg: true, x, y: y + 28, class: "glabel", text: preview(n.text, 28)}),
        el("title", {svg: true, text: `#${n.id} ${n.kind || ""}: ${preview(n.text, 200)}`}));
      if (n.id !== centre) node.addEventListener("click", () => open(n.id));
      svg.appendChild(node);
    }
    return svg;
  }

  async function open(id) {
    history.replaceState(null, "", entryHref(id));
    clear(view).appendChild(el("p", {class: "muted", text: "Loading…"}));
    try {
      const e = await api(`/api/memory/${Number(id)}`);
      const p = e.provenance;
      const links = e.links.map((l) => el("li", {},
        tag(l.direction === "out" ? `${l.type} →` : `← ${l.type}`), " ",
        el("a", {href: entryHref(l.id), text: `#${l.id}`,
                 onclick: (ev) => { ev.preventDefault(); open(l.id); }}),
        " ", el("span", {text: preview(l.text, 160)})));
      OS.add(clear(view), [
        el("h1", {}, `Entry #${e.id} `, tag(e.kind), e.superseded_by
          ? tag(`superseded by #${e.superseded_by}`, "retired") : null),
        pre(e.text, "entry-text"),
        el("p", {class: "muted", text: `${e.scope} · written ${when(e.created)} · recalled ` +
          `${e.accessed} times`}),
        e.context ? [el("h3", {text: "Context"}), pre(e.context)] : null,
        el("h3", {text: "Provenance"}),
        p ? el("p", {id: "provenance"}, `${p.kind || "event"} ${p.event ?? ""} by ` +
                `${p.agent || "the run"} in run `,
               el("a", {href: runHref(p.run, p.event), text: p.run}),
               p.task ? el("span", {class: "muted", text: ` (${preview(p.task, 120)})`}) : null)
          : el("p", {class: "muted", text: "Added outside a run (by a person or an import)."}),
        Object.keys(e.metadata || {}).length ? [el("h3", {text: "Metadata"}),
                                                 pre(pretty(e.metadata))] : null,
        el("h3", {text: `Links (${e.links.length})`}),
        links.length ? el("ul", {class: "links"}, links) : el("p", {class: "muted", text: "None."}),
        e.graph.nodes.length > 1 ? graph(e.graph, e.id) : null]);
    } catch (error) { OS.failure(view, error); }
  }

  const reload = debounce(() => loadList().catch((e) => OS.failure(listing, e)), 250);
  search.addEventListener("input", reload);
  kind.addEventListener("change", reload);
  old.addEventListener("change", reload);
  const wanted = new URLSearchParams(location.search).get("id");
  loadList().then((found) => {
    const first = wanted || (found.entries && found.entries[0] && found.entries[0].id);
    return first ? open(first) : null;
  }).then(() => { document.body.dataset.ready = "1"; })
    .catch((e) => OS.failure(listing, e));
})();
