"""`swarmlab graph`: the lab as a picture, drawn from the live lab's snapshot (the data
`status --json` carries, never terminal text): hosts as boxes with their role and
address, the tasks on each, every overlay as a coloured node linked to the tasks on it
(name, VXLAN id, subnet, encrypted or plain and why), published ports at the edge.

Mermaid and DOT are text; SVG goes through Graphviz's `dot`; HTML is one self-contained
page (the SVG inline, no remote asset)."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from typing import Any, Dict, List

from .errors import PreflightError, SwarmlabError

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]
FORMATS = ("mermaid", "dot", "svg", "html")


def _net_label(n: Dict[str, Any]) -> List[str]:
    enc = "encrypted (IPsec ESP)" if n["encrypted"] else "plain VXLAN"
    return [
        n["name"],
        f"VXLAN {n['vxlan_id'] or '?'}, {n['subnet'] or '?'}",
        enc + (f": {n['why']}" if n["why"] else ""),
    ]


nl = "\n"


def _role(n: Dict[str, Any]) -> str:
    return n["role"] + (f" ({n['manager']})" if n.get("manager") else "")


def _edges(status: Dict[str, Any]):
    """(task, network) for every task on every network of the lab; (port text, task) for
    every published port."""
    nets = {n["name"] for n in status["networks"]}
    on, published = [], []
    for svc in status["services"]:
        for t in svc["tasks"]:
            on += [(t["task"], n) for n in svc.get("networks", []) if n in nets]
            published += [(p.split(" ")[0], t["task"]) for p in svc["ports"]]
    return on, published


def _dot_q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(status: Dict[str, Any]) -> str:
    lines = [
        f"graph {_dot_q('lab ' + status['lab'])} {{",
        "  rankdir=LR; compound=true;",
        '  node [fontname="Helvetica", fontsize=10]; edge [fontname="Helvetica", fontsize=9];',
        f"  label={_dot_q('lab ' + status['lab'] + ' (' + status['provider'] + ')')}; labelloc=t;",
    ]
    tasks: Dict[str, List[str]] = {}
    for svc in status["services"]:
        for t in svc["tasks"]:
            tasks.setdefault(t["node"], []).append(t["task"])
    for n in status["nodes"]:
        label = "\n".join([n["name"], _role(n), n["address"], f"{n['swarm']}, {n['availability'] or '-'}"])
        lines.append(f"  subgraph {_dot_q('cluster_' + n['name'])} {{")
        lines.append(f"    label={_dot_q(label)}; style=rounded;")
        lines += [
            f'    {_dot_q(t)} [shape=box, style=filled, fillcolor="#f4f4f4"];' for t in sorted(tasks.get(n["name"], []))
        ]
        if not tasks.get(n["name"]):  # Graphviz draws no empty cluster
            lines.append(f'    {_dot_q("empty:" + n["name"])} [shape=plaintext, label="no task"];')
        lines.append("  }")
    colour = {n["name"]: COLOURS[i % len(COLOURS)] for i, n in enumerate(status["networks"])}
    for n in status["networks"]:
        lines.append(
            f"  {_dot_q('net:' + n['name'])} [shape=ellipse, color={_dot_q(colour[n['name']])}, penwidth=2, "
            f"label={_dot_q(nl.join(_net_label(n)))}];"
        )
    on, published = _edges(status)
    lines += [f"  {_dot_q(t)} -- {_dot_q('net:' + n)} [color={_dot_q(colour[n])}, penwidth=2];" for t, n in on]
    if published:
        lines.append('  "outside" [shape=plaintext, label="outside the swarm"];')
        lines += [f'  "outside" -- {_dot_q(t)} [label={_dot_q(p)}, style=dashed];' for p, t in published]
    return "\n".join(lines + ["}"]) + "\n"


def _mid(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _mq(text: str) -> str:
    """A quoted mermaid label: its entity codes for what would end or open markup."""
    out = text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#60;").replace(">", "#62;")
    return '"' + out.replace("\n", "<br/>") + '"'


def to_mermaid(status: Dict[str, Any]) -> str:
    lines = ["flowchart LR"]
    tasks: Dict[str, List[str]] = {}
    for svc in status["services"]:
        for t in svc["tasks"]:
            tasks.setdefault(t["node"], []).append(t["task"])
    for n in status["nodes"]:
        lines.append(f"  subgraph {_mid('host_' + n['name'])}[{_mq(' · '.join([n['name'], _role(n), n['address']]))}]")
        lines += [f"    {_mid('task_' + t)}[{_mq(t)}]" for t in sorted(tasks.get(n["name"], []))]
        if not tasks.get(n["name"]):
            lines.append(f"    {_mid('empty_' + n['name'])}[{_mq('no task')}]")
        lines.append("  end")
    for n in status["networks"]:
        lines.append(f"  {_mid('net_' + n['name'])}(({_mq(nl.join(_net_label(n)))}))")
    on, published = _edges(status)
    lines += [f"  {_mid('task_' + t)} --- {_mid('net_' + n)}" for t, n in on]
    if published:
        lines.append(f"  outside[{_mq('outside the swarm')}]")
        lines += [f"  outside -. {_mq(p)} .- {_mid('task_' + t)}" for p, t in published]
    for i, n in enumerate(status["networks"]):
        lines.append(f"  style {_mid('net_' + n['name'])} stroke:{COLOURS[i % len(COLOURS)]},stroke-width:3px")
    return "\n".join(lines) + "\n"


def to_svg(dot_text: str) -> str:
    if shutil.which("dot") is None:
        raise PreflightError(
            "Graphviz's dot is not installed: SVG and HTML need it",
            hint="apt-get install graphviz (scripts/setup.sh does), or --format mermaid|dot",
        )
    r = subprocess.run(["dot", "-Tsvg"], input=dot_text, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise SwarmlabError(f"dot failed: {r.stderr.strip()[-300:]}")
    return r.stdout[r.stdout.find("<svg") :]


def to_html(status: Dict[str, Any]) -> str:
    title = html.escape(f"swarmlab lab {status['lab']}")
    rows = "".join(
        f"<tr><td>{html.escape(n['name'])}</td><td>{html.escape(n['role'])}</td>"
        f"<td>{html.escape(n['address'])}</td><td>{html.escape(n['swarm'])}</td></tr>"
        for n in status["nodes"]
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.2em .6em}</style></head><body>"
        f"<h1>{title}</h1>{to_svg(to_dot(status))}"
        f'<table id="nodes"><tr><th>node</th><th>role</th><th>address</th><th>swarm</th></tr>{rows}</table>'
        "</body></html>\n"
    )


def render(status: Dict[str, Any], fmt: str) -> str:
    return {"mermaid": to_mermaid, "dot": to_dot, "svg": lambda s: to_svg(to_dot(s)), "html": to_html}[fmt](status)
