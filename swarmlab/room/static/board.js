// The trainer's board: every trainee's row, a trainee's terminal watched read-only, resets.
"use strict";
const TOKEN = document.querySelector('meta[name="swarmlab-token"]').content;
const $ = (id) => document.getElementById(id);
let watching = null;

function say(text) { $("said").textContent = text; }

function cell(text) { const td = document.createElement("td"); td.textContent = text == null ? "" : String(text); return td; }

function button(text, onclick) {
  const td = document.createElement("td");
  const b = document.createElement("button");
  b.textContent = text;
  b.addEventListener("click", onclick);
  td.appendChild(b);
  return td;
}

function row(t) {
  const tr = document.createElement("tr");
  tr.dataset.trainee = t.trainee;
  const passed = Array.isArray(t.passed) ? t.passed.length : null;
  tr.append(cell(t.trainee), cell(t.lab), cell(passed == null ? "" : passed + "/" + t.steps), cell(t.hints), cell(t.minutes),
    cell(t.error ? "failed: " + t.error : t.whole === true ? "yes" : t.whole === false ? "NO" : "…"), cell(t.doing || ""));
  const watch = document.createElement("td");
  for (const node of t.shells) {
    const b = document.createElement("button");
    b.textContent = node;
    b.addEventListener("click", () => watch_(t.trainee, node));
    watch.appendChild(b);
  }
  tr.appendChild(watch);
  tr.appendChild(button("reset", () => reset(t.trainee)));
  return tr;
}

async function refresh() {
  try {
    const r = await fetch("/board/api/state");
    const s = await r.json();
    if (!r.ok) throw new Error(s.error);
    $("room").textContent = s.room;
    $("lesson").textContent = s.lesson;
    document.querySelector("#trainees tbody").replaceChildren(...s.trainees.map(row));
    if (s.error) say(s.error);
  } catch (e) { say("the room's server does not answer: " + e.message); }
}

async function reset(trainee) {
  const r = await fetch("/board/api/reset", { method: "POST", headers: { "X-Swarmlab-Token": TOKEN, "Content-Type": "application/json" },
    body: JSON.stringify({ trainee }) });
  say(r.ok ? trainee + "'s lab goes back to the lesson's start…" : (await r.json()).error);
}

$("next").addEventListener("click", async () => {
  const r = await fetch("/board/api/next", { method: "POST", headers: { "X-Swarmlab-Token": TOKEN, "Content-Type": "application/json" }, body: "{}" });
  const doc = await r.json();
  say(r.ok ? "the room moves to " + doc.lesson + "…" : doc.error);
});

function watch_(trainee, node) {
  if (watching) { watching.ws.onclose = null; watching.ws.close(); watching.term.dispose(); }
  $("watch").hidden = false;
  $("watching").textContent = trainee + " on " + node + " (read-only)";
  const term = new Terminal({ disableStdin: true, scrollback: 5000 });
  const fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open($("watchterm"));
  fit.fit();
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + "/board/ws/" + encodeURIComponent(trainee) + "/" + encodeURIComponent(node));
  ws.binaryType = "arraybuffer";
  ws.onmessage = (ev) => term.write(new Uint8Array(ev.data));
  ws.onclose = (ev) => term.write("\r\n[" + (ev.reason || "closed") + "]\r\n");
  watching = { ws, term };
}

refresh();
setInterval(refresh, 3000);
