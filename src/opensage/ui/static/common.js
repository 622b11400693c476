// OpenSage viewer: helpers shared by the pages. Everything a run or a model wrote is untrusted
// text: it is only ever set as text (textContent, text nodes), never parsed as HTML, and never
// put in a URL except through encodeURIComponent.
"use strict";

const OS = (() => {
  // el("div", {class: "x", text: "..."}, child, "text", ...): an element built without markup.
  function el(tag, attrs, ...children) {
    const node = tag === "svg" || (attrs && attrs.svg)
      ? document.createElementNS("http://www.w3.org/2000/svg", tag)
      : document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false || key === "svg") continue;
      if (key === "class") node.setAttribute("class", value);
      else if (key === "text") node.textContent = String(value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "href") node.setAttribute("href", safeHref(value));
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) add(node, child);
    return node;
  }

  function add(node, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) { child.forEach((c) => add(node, c)); return; }
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }

  // Links are built by the viewer from paths it knows; anything else is refused.
  function safeHref(value) {
    const text = String(value);
    return text.startsWith("/") && !text.startsWith("//") || text.startsWith("#") ? text : "#";
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  async function api(path) {
    const response = await fetch(path, {credentials: "same-origin",
                                        headers: {accept: "application/json"}});
    if (!response.ok) {
      let message = `${response.status} ${response.statusText}`;
      try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
      throw new Error(message);
    }
    return response.json();
  }

  function query(params) {
    const parts = [];
    for (const [key, value] of Object.entries(params)) {
      if (value === undefined || value === null || value === "" || value === false) continue;
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
    }
    return parts.length ? `?${parts.join("&")}` : "";
  }

  const runHref = (id, event) =>
    `/runs/${encodeURIComponent(id)}${event ? `#e${Number(event)}` : ""}`;
  const toolHref = (name) => `/tools${query({name})}`;
  const entryHref = (id) => `/memory${query({id})}`;

  function cost(value) {
    const v = Number(value || 0);
    return v === 0 ? "$0" : v < 0.0001 ? "<$0.0001" : `$${v.toFixed(4)}`;
  }

  function tokens(value) { return `${Number(value || 0).toLocaleString("en")} tok`; }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "";
    const s = Number(seconds);
    if (s < 1) return `${Math.round(s * 1000)} ms`;
    if (s < 60) return `${s.toFixed(1)} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
    return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  }

  function when(ts) {
    if (!ts) return "";
    const d = new Date(ts * 1000);
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  const STATUS_CLASS = {finished: "ok", running: "live", interrupted: "warn", cancelled: "warn"};

  function badge(status, extra) {
    const name = String(status || "");
    return el("span", {class: `badge ${STATUS_CLASS[name] || "bad"}${extra ? " " + extra : ""}`,
                       text: name});
  }

  function tag(text, kind) { return el("span", {class: `tag ${kind || ""}`, text}); }

  // A one-line preview of untrusted text: whitespace collapsed, cut with an ellipsis.
  function preview(text, n) {
    const flat = String(text || "").replace(/\s+/g, " ").trim();
    return flat.length > n ? `${flat.slice(0, n)}…` : flat;
  }

  // JSON text shown indented when it parses; as it is otherwise.
  function pretty(text) {
    if (typeof text !== "string") return JSON.stringify(text, null, 2);
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { return text; }
  }

  function pre(text, cls) { return el("pre", {class: cls || "", text: String(text ?? "")}); }

  function failure(where, error) {
    clear(where).appendChild(el("p", {class: "error-text", text: `Could not load: ${error.message}`}));
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }

  return {el, add, clear, api, query, runHref, toolHref, entryHref, cost, tokens, duration, when,
          badge, tag, preview, pretty, pre, failure, debounce};
})();
