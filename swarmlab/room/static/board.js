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
  tr.append(cell(t.trainee), cell(t.lab), cell(t.engine || ""), cell(passed == null ? "" : passed + "/" + t.steps), cell(t.hints), cell(t.minutes),
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
    drills(s);
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

// the drill panel: the demonstration lab's drills, the one running, its questions and the room's answers
function drills(s) {
  $("drill").hidden = !s.demo;
  if (!s.demo) return;
  $("demo").textContent = s.demo;
  if ($("drillid").childElementCount === 0) {
    $("drillid").replaceChildren(...s.drills.map((d) => { const o = document.createElement("option"); o.value = d.id; o.textContent = d.id + ": " + d.title; return o; }));
    $("drillid").addEventListener("change", () => params(s.drills));
    params(s.drills);
  }
  const d = s.drill;
  $("close").hidden = !(d && d.questions.some((q) => q.open));
  if (!d) return;
  $("drilltitle").textContent = d.title + (d.running ? " (running)" : d.error ? " (failed: " + d.error + ")" : d.passed ? " (passed)" : " (over)");
  $("drillevents").textContent = d.events.join("\n");
  $("questions").replaceChildren(...d.questions.map((q) => {
    const box = document.createElement("div");
    box.className = "question";
    const p = document.createElement("p");
    p.textContent = q.number + ". " + q.question + (q.open ? " (open: " + q.answers + " answered)" : "");
    const ul = document.createElement("ul");
    ul.append(...q.choices.map((text, i) => {
      const li = document.createElement("li");
      li.textContent = text + ": " + q.counts[i] + (q.right ? (q.right.includes(i) ? " (held: " : " (did not hold: ") + q.observed[i] + ")" : "");
      return li;
    }));
    box.append(p, ul);
    return box;
  }));
  $("scores").querySelector("tbody").replaceChildren(...Object.entries(d.scores || {}).map(([who, score]) => {
    const tr = document.createElement("tr");
    tr.append(cell(who), cell(score));
    return tr;
  }));
}

function params(list) {
  const d = list.find((x) => x.id === $("drillid").value);
  $("params").replaceChildren(...Object.entries(d ? d.params : {}).map(([k, v]) => {
    const input = document.createElement("input");
    input.name = k; input.value = v; input.size = 10; input.title = k;
    return input;
  }));
}

async function post(path, body) {
  const r = await fetch(path, { method: "POST", headers: { "X-Swarmlab-Token": TOKEN, "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const doc = await r.json();
  if (!r.ok) throw new Error(doc.error || r.statusText);
  return doc;
}

$("rundrill").addEventListener("click", async () => {
  const params = {};
  for (const input of $("params").querySelectorAll("input")) params[input.name] = input.value;
  try { await post("/board/api/drill", { drill: $("drillid").value, params }); say("the drill starts on " + $("demo").textContent + "…"); refresh(); }
  catch (e) { say(e.message); }
});

$("close").addEventListener("click", async () => {
  try { await post("/board/api/close", {}); say("question closed: the step goes on"); } catch (e) { say(e.message); }
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
