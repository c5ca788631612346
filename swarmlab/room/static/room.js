// A trainee's page: the lesson, its Check/Hint/Reset buttons, and a terminal per node.
"use strict";
const TOKEN = document.querySelector('meta[name="swarmlab-token"]').content;
const WHO = document.querySelector('meta[name="swarmlab-who"]').content;
const BASE = "/t/" + encodeURIComponent(WHO) + "/";
const $ = (id) => document.getElementById(id);

function say(text) { $("said").textContent = text; }

async function call(path, method, body) {
  const opts = { method: method || "GET", headers: {} };
  if (opts.method === "POST") {
    opts.headers["X-Swarmlab-Token"] = TOKEN; opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body || {});
  }
  const r = await fetch(BASE + path, opts);
  const doc = await r.json();
  if (!r.ok) throw new Error(doc.error || r.statusText);
  return doc;
}

function item(text, cls, seen) {
  const li = document.createElement("li");
  li.textContent = text;
  if (cls) li.className = cls;
  if (seen) { const s = document.createElement("span"); s.className = "seen"; s.textContent = seen; li.appendChild(s); }
  return li;
}

function show(state) {
  const brief = state.brief || {};
  $("title").textContent = brief.title || state.error || "…";
  $("brief").textContent = brief.brief || state.error || "";
  const checked = state.check ? state.check.steps : null;
  $("steps").replaceChildren(...(brief.steps || []).map((title, i) => {
    const r = checked && checked[i];
    return item(title, r ? (r.passed ? "pass" : "fail") : "", r && !r.passed ? "seen: " + r.seen : "");
  }));
  $("hints").replaceChildren(...state.hints.map((h) => item(h)));
  $("reset").hidden = !state.allow_reset;
  const whole = $("whole");
  whole.textContent = state.whole === true ? "lab whole" : state.whole === false ? "lab not whole" : "";
  whole.className = "badge " + (state.whole === true ? "ok" : state.whole === false ? "bad" : "");
  if (state.doing) say(state.doing + " runs…");
  if ($("tabs").childElementCount === 0) tabs(state.nodes);
  drill(state.drill);
}

// the drill the trainer runs on the demonstration lab: each question while it is open,
// then what the lab showed for each choice
function drill(d) {
  $("drill").hidden = !d;
  if (!d) return;
  $("drilltitle").textContent = d.title + (d.running ? " (running)" : d.error ? " (failed: " + d.error + ")" : " (over)");
  $("drillevents").textContent = d.events.slice(-8).join("\n");
  $("questions").replaceChildren(...d.questions.map((q) => {
    const box = document.createElement("div");
    box.className = "question";
    box.dataset.number = q.number;
    const p = document.createElement("p");
    p.textContent = q.number + ". " + q.question;
    box.appendChild(p);
    q.choices.forEach((text, i) => {
      const b = document.createElement("button");
      b.textContent = text;
      b.disabled = !q.open;
      b.dataset.choice = i;
      if (q.picked === i) b.className = "picked";
      if (q.right) {
        b.className += q.right.includes(i) ? " right" : "";
        b.title = q.observed[i];
      }
      b.addEventListener("click", () => answer(q.number, i));
      box.appendChild(b);
    });
    if (q.right) {
      const held = q.right.map((i) => q.choices[i]).join("; ") || "none of the choices";
      box.appendChild(item(q.right.includes(q.picked) ? "right: your answer held" : "what the lab showed: " + held, "verdict"));
    }
    return box;
  }));
}

async function answer(number, choice) {
  try { await call("api/answer", "POST", { question: number, choice }); say("answer " + (choice + 1) + " sent"); refresh(); }
  catch (e) { say(e.message); }
}

// the lab's picture: a box per node (its state), the tasks running on it
function picture(snap) {
  const boxes = snap.nodes.map((n) => {
    const box = document.createElement("div");
    box.className = "node " + (n.container !== "running" || n.swarm !== "ready" ? "down" : n.availability !== "active" ? "drain" : "");
    box.dataset.node = n.name;
    const h = document.createElement("h3");
    h.textContent = n.name + " " + (n.manager ? "(manager)" : "");
    const s = document.createElement("div");
    s.className = "state";
    s.textContent = [n.swarm, n.availability].filter(Boolean).join(", ");
    box.append(h, s);
    for (const svc of snap.services) {
      for (const t of svc.tasks.filter((t) => t.node === n.name)) {
        const task = document.createElement("div");
        task.className = "task";
        task.dataset.service = svc.name;
        task.textContent = t.task;
        box.appendChild(task);
      }
    }
    return box;
  });
  $("picture").replaceChildren(...boxes);
  $("picture").title = snap.lacking.join("\n");
}

async function refresh() {
  try { show(await call("api/state")); } catch (e) { say("the room's server does not answer: " + e.message); }
  try { picture(await call("api/picture")); } catch (e) { /* said by the state's answer */ }
}

$("check").addEventListener("click", async () => {
  say("checking…");
  try {
    const r = await call("api/check", "POST");
    say(r.passed + "/" + r.of + " steps hold" + (r.solved ? ": solved" : ""));
  } catch (e) { say(e.message); }
  refresh();
});
$("hint").addEventListener("click", async () => {
  try { const r = await call("api/hint", "POST"); say(r.hint ? "hint " + r.number + "/" + r.of : "this lesson has no hints"); } catch (e) { say(e.message); }
  refresh();
});
$("reset").addEventListener("click", async () => {
  try { await call("api/reset", "POST"); say("the lab goes back to the lesson's start…"); } catch (e) { say(e.message); }
});

// -- terminals ---------------------------------------------------------------
const terms = {};

function tabs(nodes) {
  if (typeof Terminal === "undefined") { $("noterm").hidden = false; return; }
  for (const node of nodes) {
    const b = document.createElement("button");
    b.textContent = node;
    b.id = "tab-" + node;
    b.addEventListener("click", () => open(node));
    $("tabs").appendChild(b);
  }
  if (nodes.length) open(nodes[0]);
}

function open(node) {
  for (const [n, t] of Object.entries(terms)) { t.div.hidden = n !== node; $("tab-" + n).className = ""; }
  $("tab-" + node).className = "on";
  if (!terms[node]) terms[node] = terminal(node);
  terms[node].div.hidden = false;
  terms[node].fit.fit();
  terms[node].term.focus();
}

function terminal(node) {
  const div = document.createElement("div");
  div.className = "term";
  div.id = "term-" + node;
  $("terms").appendChild(div);
  const term = new Terminal({ cursorBlink: true, scrollback: 5000, convertEol: false });
  const fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(div);
  const t = { div, term, fit, ws: null, tries: 0 };
  clipboardKeys(term);
  term.onData((data) => { if (t.ws && t.ws.readyState === 1) t.ws.send(JSON.stringify({ i: data })); });
  term.onResize((s) => { if (t.ws && t.ws.readyState === 1) t.ws.send(JSON.stringify({ r: [s.cols, s.rows] })); });
  window.addEventListener("resize", () => { if (!div.hidden) fit.fit(); });
  connect(t, node);
  return t;
}

// Copy and paste as terminals do: Ctrl+Shift+C copies the selection (and is kept from the
// browser, where it may open its inspector), Ctrl+Shift+V leaves the key to the browser,
// which pastes into the terminal (as a right click's Paste does); a plain Ctrl+C stays the
// interrupt the shell expects.
function clipboardKeys(term) {
  term.attachCustomKeyEventHandler((e) => {
    if (e.type !== "keydown" || !e.ctrlKey || !e.shiftKey) return true;
    if (e.code === "KeyC") {
      e.preventDefault();
      if (term.hasSelection()) copyText(term.getSelection(), term);
      return false;
    }
    return e.code !== "KeyV";
  });
}

function copyText(text, term) {
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).catch(() => copyByCommand(text, term));
  } else {
    copyByCommand(text, term);  // plain http to another host: no Clipboard API there
  }
}

function copyByCommand(text, term) {
  const area = document.createElement("textarea");
  area.value = text;
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  document.execCommand("copy");
  area.remove();
  term.focus();
}

function connect(t, node) {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + BASE + "ws/" + encodeURIComponent(node));
  ws.binaryType = "arraybuffer";
  t.ws = ws;
  ws.onopen = () => {
    t.tries = 0;
    t.term.reset();  // the server sends the shell's recent output again
    ws.send(JSON.stringify({ r: [t.term.cols, t.term.rows] }));
  };
  ws.onmessage = (ev) => t.term.write(new Uint8Array(ev.data));
  ws.onclose = (ev) => {
    t.term.write("\r\n[" + (ev.reason || "disconnected") + ": reconnecting…]\r\n");
    t.tries += 1;
    setTimeout(() => connect(t, node), Math.min(10000, 500 * 2 ** t.tries));
  };
}

setInterval(() => {
  for (const t of Object.values(terms)) if (t.ws && t.ws.readyState === 1) t.ws.send(JSON.stringify({ p: 1 }));
}, 20000);
refresh();
setInterval(refresh, 3000);
