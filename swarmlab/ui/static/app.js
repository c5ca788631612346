// The live page: reads /api/state every second and draws it; the buttons POST with the
// token the server put in the page. Every text from the lab goes in as textContent.
"use strict";
const TOKEN = document.querySelector('meta[name="swarmlab-token"]').content;
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
const seen = new Set();
let nodesForDrill = "";

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k === "style") e.style.cssText = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function short(task) { return task.split(".").slice(0, 2).join("."); }

function drawHosts(st) {
  const colour = {};
  st.networks.forEach((n, i) => { colour[n.name] = COLOURS[i % COLOURS.length]; });
  const hosts = document.getElementById("hosts");
  const cards = st.nodes.map((n) => {
    const state = n.swarm !== "ready" ? "down" : (n.availability === "active" ? "ready" : n.availability);
    const card = el("div", {class: "host " + state, "data-node": n.name},
      el("h3", {}, n.name),
      el("div", {class: "meta"}, `${n.role}${n.manager ? " (" + n.manager + ")" : ""} · ${n.address} · ${n.swarm}, ${n.availability || "-"}`));
    for (const svc of st.services) {
      for (const t of svc.tasks.filter((t) => t.node === n.name)) {
        const span = el("span", {class: "task" + (seen.has(t.task) ? "" : " new"), "data-task": short(t.task),
                                 "data-service": svc.name, title: t.state}, `${short(t.task)} · ${t.state}`);
        for (const net of (svc.networks || [])) {
          if (colour[net]) span.append(el("span", {class: "net", title: net, style: `background:${colour[net]}`}));
        }
        card.append(span);
      }
    }
    return card;
  });
  hosts.replaceChildren(...cards);
  for (const svc of st.services) for (const t of svc.tasks) seen.add(t.task);
  const waiting = st.services.filter((s) => { const [a, b] = String(s.replicas).split("/"); return a !== b; })
    .map((s) => `${s.name} ${s.replicas}`);
  document.getElementById("waiting").textContent = waiting.length ? "not at their replicas: " + waiting.join(", ") : "";
}

function drawNetworks(st) {
  const rows = st.networks.map((n, i) => {
    const tasks = st.services.filter((s) => (s.networks || []).includes(n.name))
      .flatMap((s) => s.tasks.map((t) => `${short(t.task)}@${t.node}`));
    return el("tr", {"data-network": n.name},
      el("td", {}, el("span", {class: "net", style: `background:${COLOURS[i % COLOURS.length]}`}), " ", n.name),
      el("td", {}, n.vxlan_id || "?"), el("td", {}, n.subnet || "?"),
      el("td", {class: n.encrypted ? "good" : "warn"}, n.encrypted ? "yes (IPsec ESP)" : "no"),
      el("td", {}, n.why || ""), el("td", {}, tasks.join(", ")));
  });
  document.querySelector("#networks tbody").replaceChildren(...rows);
}

function drawNodeChoice(st) {
  const names = st.nodes.map((n) => n.name).join(",");
  if (names === nodesForDrill) return;
  nodesForDrill = names;
  const sel = document.getElementById("drill-node");
  sel.replaceChildren(...st.nodes.map((n) => el("option", {value: n.name}, n.name)));
  if (st.nodes.length > 1) sel.value = st.nodes[1].name;
}

function drawAction(a) {
  const busy = a.state === "running";
  document.getElementById("run-verify").disabled = busy;
  document.getElementById("run-drill").disabled = busy;
  const took = a.ended ? ` in ${(a.ended - a.started).toFixed(1)} s` : (a.started ? ` for ${(Date.now() / 1000 - a.started).toFixed(0)} s` : "");
  document.getElementById("action-state").textContent = a.kind ? `${a.kind}: ${a.state}${took}` : "no action yet";
  document.getElementById("action-state").className = a.state === "passed" ? "" : "dim";
  document.getElementById("action-log").textContent = a.log.join("\n");
  const checks = (a.result && a.result.checks) || [];
  const rows = checks.map((c) => el("tr", {"data-check": c.name}, el("td", {}, c.name),
    el("td", {class: c.status === "passed" ? "good" : (c.status === "failed" ? "bad" : "warn")}, c.status),
    el("td", {}, c.observed)));
  if (a.result && a.result.errors) rows.push(el("tr", {}, el("td", {class: "bad"}, a.result.errors.join("; "))));
  document.querySelector("#action-checks tbody").replaceChildren(...rows);
}

function drawProgress(rows) {
  document.querySelector("#progress tbody").replaceChildren(...rows.map((r) => el("tr", {"data-lab": r.lab},
    el("td", {}, r.lab), el("td", {}, r.trainee || "-"), el("td", {}, r.lesson),
    el("td", {}, `${(r.passed || []).length}/${r.steps || 0}`), el("td", {}, r.hints ?? "-"),
    el("td", {}, r.minutes ?? "-"), el("td", {class: r.solved ? "good" : "warn"}, r.solved ? "yes" : "no"))));
}

async function refresh() {
  try {
    const r = await fetch("/api/state", {cache: "no-store"});
    if (!r.ok) throw new Error(`the server said ${r.status}`);
    const s = await r.json();
    const fresh = document.getElementById("fresh");
    if (s.status) {
      drawHosts(s.status); drawNetworks(s.status); drawNodeChoice(s.status);
      const badge = document.getElementById("whole");
      badge.textContent = s.status.whole ? "whole" : "not whole";
      badge.className = "badge " + (s.status.whole ? "good" : "bad");
    }
    fresh.textContent = (s.error ? `last read failed: ${s.error}; ` : "") +
      `read ${Math.max(0, Date.now() / 1000 - s.read_at).toFixed(1)} s ago`;
    drawAction(s.action); drawProgress(s.progress);
  } catch (e) {
    document.getElementById("fresh").textContent = `no answer from swarmlab ui (${e.message}): is it still running?`;
  }
}

async function post(path, body) {
  const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json", "X-Swarmlab-Token": TOKEN},
                               body: JSON.stringify(body || {})});
  if (!r.ok) document.getElementById("action-state").textContent = (await r.json()).error;
  refresh();
}

async function loadDrills() {
  const r = await fetch("/api/drills");
  const drills = r.ok ? await r.json() : [];
  document.getElementById("drill-choice").replaceChildren(...drills.filter((d) => "node" in (d.params || {}) && !("peer" in d.params))
    .map((d) => el("option", {value: d.id}, `${d.id}: ${d.title}`)));
}

document.getElementById("run-verify").addEventListener("click", () => post("/api/verify"));
document.getElementById("run-drill").addEventListener("click", () => post("/api/drill", {
  drill: document.getElementById("drill-choice").value, params: {node: document.getElementById("drill-node").value}}));
loadDrills();
refresh();
setInterval(refresh, 1000);
