// The KmsCluster dashboard: reads the node's admin API every 5 s with the admin token and draws one panel per
// endpoint. A panel whose endpoint cannot be reached says so (data-state="error") and the others carry on.
"use strict";

const refreshMs = 5000;
const tokenKey = "kms-admin-token";

function takeToken() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem(tokenKey, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname); // keep the token out of the address bar and history
  }
  return sessionStorage.getItem(tokenKey);
}

class Unauthorized extends Error {}

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + sessionStorage.getItem(tokenKey) } });
  if (response.status === 401) throw new Unauthorized("the node refused the admin token");
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(`${response.status}: ${body && body.error ? body.error : response.statusText}`);
  return body;
}

// el("td", {class: "num"}, "text", child...): text always goes in as text, never as markup.
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function table(headers, rows) {
  return el("table", {}, el("tr", {}, headers.map(h => el("th", {}, h))), rows.map(r => el("tr", {}, r.map(c => c instanceof Node ? el("td", {}, c) : el("td", {}, c ?? "")))));
}

const when = t => (t ? new Date(t).toLocaleString() : "never");

async function panel(id, path, render) {
  const section = document.getElementById(id);
  const body = section.querySelector(".body");
  try {
    const data = await api(path);
    body.replaceChildren(render(data));
    section.dataset.state = "ok";
  } catch (e) {
    if (e instanceof Unauthorized) throw e;
    body.replaceChildren(el("p", { class: "unreachable" }, `Could not reach ${path}: ${e.message}`));
    section.dataset.state = "error";
  }
}

function renderRequests(stats) {
  document.getElementById("node-name").textContent = stats.node;
  const errors = Object.entries(stats.byError).filter(([, n]) => n > 0);
  return el("div", {},
    table(["requests", "activated", "not activated", "failed", "since"],
      [[stats.total, stats.activated, stats.notActivated, stats.failed, when(stats.startedAt)]]),
    el("h2", {}, "Errors"),
    errors.length ? table(["code", "count"], errors) : el("p", {}, "none"));
}

// Each window on its own (GET /api/v1/windows/{application}), so one whose owner cannot be reached shows as such
// and the others still show; the list of windows comes from /api/v1/cluster, which names them even then.
async function windowsPanel() {
  const section = document.getElementById("windows");
  let cluster;
  try {
    cluster = await api("/api/v1/cluster");
  } catch (e) {
    if (e instanceof Unauthorized) throw e;
    section.querySelector(".body").replaceChildren(el("p", { class: "unreachable" }, `Could not reach /api/v1/cluster: ${e.message}`));
    section.dataset.state = "error";
    return;
  }
  const results = await Promise.all(cluster.windows.map(async w => {
    const path = "/api/v1/windows/" + encodeURIComponent(w.application);
    try {
      return { window: await api(path) };
    } catch (e) {
      if (e instanceof Unauthorized) throw e;
      return { application: w.application, problem: `Could not reach ${path}: ${e.message}` };
    }
  }));
  section.querySelector(".body").replaceChildren(renderWindows(results));
  section.dataset.state = results.some(r => r.problem) ? "partial" : "ok";
}

function renderWindows(results) {
  return table(["window", "count", "thresholds", "requests", "activated", "owner", "last contact"], results.map(r => {
    if (r.problem) return [r.application, el("span", { class: "unreachable" }, r.problem), "", "", "", "", ""];
    const w = r.window;
    const top = Math.max(w.count, 1, ...w.thresholds.map(t => t.threshold));
    const bar = el("div", { class: "bar", title: `${w.count} of ${w.capacity} kept` },
      el("div", { class: "fill", style: `width:${Math.min(100, 100 * w.count / top)}%` }),
      w.thresholds.map(t => el("div", { class: "mark", style: `left:${100 * t.threshold / top}%`, title: `${t.kind}: ${t.threshold}` })));
    const thresholds = el("span", {}, w.thresholds.map(t =>
      el("span", { class: t.reached ? "met" : "unmet" }, `${t.kind} ${t.threshold} ${t.reached ? "reached" : "not reached"} `)));
    return [w.name, el("span", {}, `${w.count} `, bar), thresholds, w.requests, w.activated, w.owner ?? "", when(w.lastContact)];
  }));
}

// One line chart: series [{name, values}] over the samples' times.
function chart(samples, series, unit) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 600 160");
  const values = series.flatMap(s => s.values).filter(v => v !== null);
  const max = Math.max(1, ...values);
  const x = i => 40 + (samples.length < 2 ? 0 : (550 * i) / (samples.length - 1));
  const y = v => 145 - (130 * v) / max;
  const colours = ["#3b82c4", "#1e8449", "#c0392b"];
  series.forEach((s, k) => {
    const points = s.values.map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`)).filter(p => p);
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", colours[k % colours.length]);
    svg.append(line);
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", 45 + 130 * k);
    label.setAttribute("y", 10);
    label.setAttribute("fill", colours[k % colours.length]);
    label.textContent = s.name;
    svg.append(label);
  });
  const top = document.createElementNS(ns, "text");
  top.setAttribute("x", 0);
  top.setAttribute("y", 18);
  top.textContent = `${max.toFixed(max < 10 ? 2 : 0)} ${unit}`;
  svg.append(top);
  return svg;
}

function renderActivity(history) {
  const s = history.samples;
  if (s.length === 0) return el("p", {}, `no samples yet (one every ${history.intervalSeconds} s)`);
  return el("div", {},
    chart(s, [
      { name: "activated/s", values: s.map(x => x.activatedPerSecond) },
      { name: "not activated/s", values: s.map(x => x.notActivatedPerSecond) },
      { name: "failed/s", values: s.map(x => x.failedPerSecond) },
    ], "answers/s"),
    chart(s, [
      { name: "p50 ms", values: s.map(x => x.p50Ms) },
      { name: "p99 ms", values: s.map(x => x.p99Ms) },
    ], "ms"),
    el("p", { class: "hint" }, `${s.length} samples, ${when(s[0].time)} to ${when(s[s.length - 1].time)}`));
}

function renderCluster(c) {
  return el("div", {},
    el("p", {}, `this node ${c.self} is ${c.selfStatus}; leader ${c.leader ?? "none"}; journal ${c.journal}`),
    table(["member", "status", "reachable", "roles"], c.members.map(m =>
      [m.address + (m.self ? " (this node)" : "") + (m.oldest ? " (oldest)" : ""), m.status, m.reachable ? "yes" : "NO", m.roles.join(", ")])),
    table(["window", "owner"], c.windows.map(w => [w.application, w.owner ?? "unreachable"])));
}

function renderKeys(keys) {
  if (keys.length === 0) return el("p", {}, "no host keys installed");
  return table(["key", "group", "status", "expires", "hosts"], keys.map(k =>
    [k.key.keyId, k.key.group, `${k.key.status} (${k.key.problem})`, when(k.key.expiresAt),
      k.hosts ? `${k.hosts.length} of ${k.key.maxHosts}` : (k.error ?? "unknown")]));
}

function renderDns(d) {
  if (!d.enabled) return el("p", {}, "publishing is off");
  return table(["state", "record", "last success", "last error"], [[d.state, d.record ?? "", when(d.lastSuccess), d.lastError ?? ""]]);
}

// The client registry, newest contact first, with the filter form's values as GET /api/v1/clients parameters; a
// malformed filter shows the API's 400 (which names the parameter) in the panel.
function clientsPath() {
  const query = new URLSearchParams({ limit: "50" });
  const add = (name, id) => {
    const value = document.getElementById(id).value.trim();
    if (value) query.set(name, value);
  };
  add("search", "clients-search");
  add("product", "clients-product");
  add("activated", "clients-activated");
  add("silentFor", "clients-silent");
  add("expiringWithin", "clients-expiring");
  return "/api/v1/clients?" + query;
}

function renderClients(page) {
  if (page.clients.length === 0) return el("p", {}, "no machines match");
  return el("div", {},
    table(["CMID", "workstation", "product", "VM", "last contact", "answer", "valid until", "node"], page.clients.map(c =>
      [c.cmid, c.workstation + (c.cloned ? " (cloned CMID)" : ""), c.product, c.virtualMachine ? "yes" : "no", when(c.lastContact),
        c.activated ? "activated" : `count ${c.lastCount}`, c.validUntil ? when(c.validUntil) : "", c.node])),
    page.next ? el("p", { class: "hint" }, "the newest 50 shown; kms clients --all lists every one") : null);
}

const clientsPanel = () => panel("clients", clientsPath(), renderClients);

document.getElementById("clients-filter").addEventListener("submit", event => {
  event.preventDefault();
  clientsPanel().catch(e => askForToken(e.message));
});

async function refresh() {
  try {
    await Promise.all([
      panel("requests", "/api/v1/stats", renderRequests),
      windowsPanel(),
      panel("activity", "/api/v1/stats/history", renderActivity),
      panel("cluster", "/api/v1/cluster", renderCluster),
      panel("keys", "/api/v1/host-keys", renderKeys),
      panel("dns", "/api/v1/host/dns", renderDns),
      clientsPanel(),
    ]);
    document.getElementById("refreshed").textContent = "updated " + new Date().toLocaleTimeString();
    setTimeout(refresh, refreshMs);
  } catch (e) {
    askForToken(e.message);
  }
}

function askForToken(problem) {
  document.getElementById("panels").hidden = true;
  document.getElementById("token-form").hidden = false;
  document.getElementById("token-problem").textContent = problem || "";
  document.getElementById("refreshed").textContent = "";
}

document.getElementById("token-form").addEventListener("submit", event => {
  event.preventDefault();
  sessionStorage.setItem(tokenKey, document.getElementById("token").value.trim());
  document.getElementById("token-form").hidden = true;
  document.getElementById("panels").hidden = false;
  refresh();
});

if (takeToken()) {
  document.getElementById("panels").hidden = false;
  refresh();
} else {
  askForToken("");
}
